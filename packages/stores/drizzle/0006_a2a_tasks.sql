CREATE TABLE "a2a_task_events" (
	"task_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"kind" text NOT NULL,
	"state" text,
	"payload" text NOT NULL,
	"in_history" boolean NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "a2a_task_events_task_id_seq_pk" PRIMARY KEY("task_id","seq")
);
--> statement-breakpoint
CREATE TABLE "a2a_task_push_configs" (
	"task_id" text NOT NULL,
	"id" text NOT NULL,
	"url" text NOT NULL,
	"token" text,
	"auth_scheme" text,
	"auth_credentials" text,
	"protocol_version" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "a2a_task_push_configs_task_id_id_pk" PRIMARY KEY("task_id","id")
);
--> statement-breakpoint
CREATE TABLE "a2a_tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"context_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"owner" text NOT NULL,
	"state" text NOT NULL,
	"status" text,
	"artifacts_bytes" bigint NOT NULL,
	"metadata" text,
	"last_seq" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "a2a_task_events_history_idx" ON "a2a_task_events" USING btree ("task_id","seq") WHERE "a2a_task_events"."in_history";--> statement-breakpoint
CREATE INDEX "a2a_task_events_artifacts_idx" ON "a2a_task_events" USING btree ("task_id","seq") WHERE "a2a_task_events"."kind" = 'artifact';--> statement-breakpoint
CREATE INDEX "a2a_tasks_owner_updated_idx" ON "a2a_tasks" USING btree ("owner","updated_at" DESC NULLS LAST,"id" collate "C" desc);--> statement-breakpoint
CREATE INDEX "a2a_tasks_terminal_updated_idx" ON "a2a_tasks" USING btree ("updated_at") WHERE "a2a_tasks"."state" in ('completed', 'canceled', 'failed', 'rejected');--> statement-breakpoint
CREATE INDEX "a2a_tasks_unfinished_updated_idx" ON "a2a_tasks" USING btree ("updated_at","id" collate "C") WHERE "a2a_tasks"."state" not in ('completed', 'canceled', 'failed', 'rejected');