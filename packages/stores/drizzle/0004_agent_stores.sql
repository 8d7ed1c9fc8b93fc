CREATE TABLE "policy_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"description" text,
	"effect" text NOT NULL,
	"actions" jsonb NOT NULL,
	"subject_kind" text NOT NULL,
	"subject_pattern" text NOT NULL,
	"target_kind" text NOT NULL,
	"target_pattern" text NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy_settings" (
	"id" text PRIMARY KEY NOT NULL,
	"default_effect" text NOT NULL,
	"version" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "state_entries" (
	"namespace" text NOT NULL,
	"key" text NOT NULL,
	"value" text,
	"version" bigint NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"updated_at" bigint NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "state_entries_namespace_key_pk" PRIMARY KEY("namespace","key")
);
--> statement-breakpoint
CREATE TABLE "state_history" (
	"namespace" text NOT NULL,
	"key" text NOT NULL,
	"version" bigint NOT NULL,
	"value" text,
	"deleted" boolean DEFAULT false NOT NULL,
	"updated_at" bigint NOT NULL,
	"updated_by" text NOT NULL,
	CONSTRAINT "state_history_namespace_key_version_pk" PRIMARY KEY("namespace","key","version")
);
--> statement-breakpoint
CREATE INDEX "state_entries_list_idx" ON "state_entries" USING btree ("namespace","key" collate "C") WHERE not "state_entries"."deleted";