CREATE TABLE "dashboard_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"principal" text NOT NULL,
	"credential_id" text,
	"created_at" bigint NOT NULL,
	"last_seen_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"revoked_at" bigint,
	"user_agent" text,
	"address" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "dashboard_sessions_secret_hash_idx" ON "dashboard_sessions" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "dashboard_sessions_expires_at_idx" ON "dashboard_sessions" USING btree ("expires_at");