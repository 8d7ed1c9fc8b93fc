ALTER TABLE "deliveries" ADD COLUMN "from_agent" text;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "trace_id" text;