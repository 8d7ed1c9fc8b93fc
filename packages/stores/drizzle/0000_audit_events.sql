CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"principal" text,
	"client_id" text,
	"connection_id" text,
	"channel" text,
	"target" text,
	"size" integer,
	"outcome" text NOT NULL,
	"detail" text,
	"trace_id" text
);
--> statement-breakpoint
CREATE INDEX "audit_events_time_id_idx" ON "audit_events" USING btree ("time" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_kind_time_idx" ON "audit_events" USING btree ("kind","time" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_principal_time_idx" ON "audit_events" USING btree ("principal","time" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "audit_events"."principal" is not null;--> statement-breakpoint
CREATE INDEX "audit_events_channel_time_idx" ON "audit_events" USING btree ("channel","time" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "audit_events"."channel" is not null;