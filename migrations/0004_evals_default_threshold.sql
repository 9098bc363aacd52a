CREATE TABLE "eval_results" (
	"id" uuid PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"configuration" text NOT NULL,
	"item_index" integer NOT NULL,
	"input" text NOT NULL,
	"expected" text NOT NULL,
	"match" text NOT NULL,
	"answer" text NOT NULL,
	"correct" boolean NOT NULL,
	"detail" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"turn_id" uuid,
	"conversation_id" uuid,
	"capsule_id" uuid,
	"iterations" integer NOT NULL,
	"exit_reason" text NOT NULL,
	"tokens" integer NOT NULL,
	"tools_used" text[] DEFAULT '{}'::text[] NOT NULL,
	"latency_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "eval_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"dataset_hash" text NOT NULL,
	"dataset" jsonb NOT NULL,
	"configurations" jsonb NOT NULL,
	"status" text NOT NULL,
	"summary" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"environment" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "capsules" ALTER COLUMN "rlm_convergence_threshold" SET DEFAULT 0.3;--> statement-breakpoint
ALTER TABLE "eval_results" ADD CONSTRAINT "eval_results_run_id_eval_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."eval_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "eval_runs" ADD CONSTRAINT "eval_runs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "eval_results_item_idx" ON "eval_results" USING btree ("run_id","configuration","item_index");--> statement-breakpoint
CREATE INDEX "eval_runs_tenant_idx" ON "eval_runs" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "eval_runs_status_idx" ON "eval_runs" USING btree ("status");