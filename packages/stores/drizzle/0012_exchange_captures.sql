CREATE TABLE "exchange_captures" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "exchange_captures_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"time" timestamp with time zone NOT NULL,
	"correlation_id" text NOT NULL,
	"step" text NOT NULL,
	"step_index" integer NOT NULL,
	"caller" text NOT NULL,
	"agent_id" text NOT NULL,
	"instance_id" text,
	"node" text,
	"trace_id" text,
	"offset_ms" integer NOT NULL,
	"size" integer,
	"payload" text,
	"redacted" jsonb NOT NULL,
	"truncated" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX "exchange_captures_correlation_idx" ON "exchange_captures" USING btree ("correlation_id","step_index");--> statement-breakpoint
CREATE INDEX "exchange_captures_agent_time_idx" ON "exchange_captures" USING btree ("agent_id","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "exchange_captures_caller_time_idx" ON "exchange_captures" USING btree ("caller","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "exchange_captures_time_idx" ON "exchange_captures" USING btree ("time");