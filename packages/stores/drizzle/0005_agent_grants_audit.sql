CREATE TABLE "grants" (
	"id" text PRIMARY KEY NOT NULL,
	"from_principal" text NOT NULL,
	"from_client_id" text NOT NULL,
	"from_agent_id" text,
	"from_key" text NOT NULL,
	"to_principal" text NOT NULL,
	"to_client_id" text NOT NULL,
	"to_agent_id" text,
	"to_key" text NOT NULL,
	"reason" text,
	"created_at" bigint NOT NULL,
	"revoked_at" bigint,
	"revoked_by" text
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "correlation_id" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "latency_ms" integer;--> statement-breakpoint
CREATE INDEX "grants_live_keys_idx" ON "grants" USING btree ("from_key","to_key") WHERE "grants"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "grants_created_idx" ON "grants" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_target_time_idx" ON "audit_events" USING btree ("target","time" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "audit_events"."target" is not null;--> statement-breakpoint
CREATE INDEX "audit_events_correlation_time_idx" ON "audit_events" USING btree ("correlation_id","time" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "audit_events"."correlation_id" is not null;