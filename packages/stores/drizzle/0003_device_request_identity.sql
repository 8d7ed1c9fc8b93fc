ALTER TABLE "device_requests" ADD COLUMN "identity" text;--> statement-breakpoint
ALTER TABLE "device_requests" ADD COLUMN "public_key" text;