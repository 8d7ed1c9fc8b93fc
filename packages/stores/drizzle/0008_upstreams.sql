CREATE TABLE "upstream_versions" (
	"id" text PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upstreams" (
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"urls" jsonb NOT NULL,
	"credentials" text,
	"credentials_kind" text NOT NULL,
	"settings" jsonb NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "upstreams_kind_id_pk" PRIMARY KEY("kind","id")
);
