CREATE TABLE "channel_messages" (
	"channel" text NOT NULL,
	"offset" bigint NOT NULL,
	"message_id" text NOT NULL,
	"source" text NOT NULL,
	"data" jsonb,
	"created_at" bigint NOT NULL,
	CONSTRAINT "channel_messages_channel_offset_pk" PRIMARY KEY("channel","offset")
);
--> statement-breakpoint
CREATE TABLE "channel_streams" (
	"channel" text PRIMARY KEY NOT NULL,
	"epoch" text NOT NULL,
	"top_offset" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "deliveries_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"message_id" text NOT NULL,
	"kind" text NOT NULL,
	"recipient" text NOT NULL,
	"source" text NOT NULL,
	"channel" text,
	"offset" bigint,
	"epoch" text,
	"data" jsonb,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" bigint NOT NULL,
	"state" text NOT NULL,
	"receipt" boolean DEFAULT false NOT NULL,
	"last_error" text,
	"dead_reason" text,
	"dead_at" bigint
);
--> statement-breakpoint
CREATE TABLE "durable_subscriptions" (
	"recipient" text NOT NULL,
	"channel" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "durable_subscriptions_recipient_channel_pk" PRIMARY KEY("recipient","channel")
);
--> statement-breakpoint
CREATE TABLE "publish_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"result" jsonb,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "publish_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE INDEX "deliveries_due_idx" ON "deliveries" USING btree ("recipient","state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "deliveries_dead_idx" ON "deliveries" USING btree ("dead_at" DESC NULLS LAST,"id" collate "C" desc) WHERE "deliveries"."state" = 'dead';--> statement-breakpoint
CREATE INDEX "deliveries_expiry_idx" ON "deliveries" USING btree ("expires_at") WHERE "deliveries"."state" <> 'dead';--> statement-breakpoint
CREATE INDEX "durable_subscriptions_channel_idx" ON "durable_subscriptions" USING btree ("channel");--> statement-breakpoint
CREATE INDEX "publish_keys_expires_at_idx" ON "publish_keys" USING btree ("expires_at");