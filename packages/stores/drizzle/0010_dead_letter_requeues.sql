ALTER TABLE "deliveries" ADD COLUMN "requeues" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "requeued_at" bigint;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "attempts_before_requeue" integer DEFAULT 0 NOT NULL;