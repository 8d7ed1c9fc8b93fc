CREATE TABLE "agent_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"subject" text,
	"secret_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint,
	"revoked_at" bigint,
	"last_used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "device_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "device_requests_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"device_name" text NOT NULL,
	"platform" text,
	"remote_address" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"status" text NOT NULL,
	"token_id" text
);
--> statement-breakpoint
CREATE TABLE "paired_channels" (
	"channel_type" text NOT NULL,
	"channel_id" text NOT NULL,
	"display_name" text,
	"paired_at" bigint NOT NULL,
	"approved_by" text,
	CONSTRAINT "paired_channels_channel_type_channel_id_pk" PRIMARY KEY("channel_type","channel_id")
);
--> statement-breakpoint
CREATE TABLE "pairing_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "pairing_requests_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"channel_type" text NOT NULL,
	"channel_id" text NOT NULL,
	"display_name" text,
	"code_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"failed_attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "session_bindings" (
	"session_id" text PRIMARY KEY NOT NULL,
	"principal" text NOT NULL,
	"role" text NOT NULL,
	"metadata" jsonb,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "agent_keys_created_at_idx" ON "agent_keys" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "api_tokens_created_at_idx" ON "api_tokens" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "device_requests_pending_idx" ON "device_requests" USING btree ("created_at","seq") WHERE "device_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "device_requests_expires_at_idx" ON "device_requests" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "pairing_requests_sender_idx" ON "pairing_requests" USING btree ("channel_type","channel_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pairing_requests_code_idx" ON "pairing_requests" USING btree ("channel_type","code_hash");--> statement-breakpoint
CREATE INDEX "pairing_requests_created_idx" ON "pairing_requests" USING btree ("created_at","seq");