CREATE TABLE "tenant_usage" (
	"tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"amount" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "tenant_usage_tenant_id_kind_window_start_pk" PRIMARY KEY("tenant_id","kind","window_start")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "admin" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenant_usage" ADD CONSTRAINT "tenant_usage_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;