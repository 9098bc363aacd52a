CREATE TABLE "turn_feedback" (
	"turn_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"tenant_id" uuid NOT NULL,
	"capsule_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"score" double precision NOT NULL,
	"comment" text,
	"revision" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "turn_feedback_turn_id_user_id_pk" PRIMARY KEY("turn_id","user_id")
);
--> statement-breakpoint
DROP INDEX "memories_scope_idx";--> statement-breakpoint
DROP INDEX "memories_search_idx";--> statement-breakpoint
DROP INDEX "memories_scope_key_idx";--> statement-breakpoint
ALTER TABLE "capsules" ADD COLUMN "learner_evidence" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "learning_updates" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "learning_updates" ADD COLUMN "evidence_before" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "learning_updates" ADD COLUMN "evidence_after" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "user_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "turn_feedback" ADD CONSTRAINT "turn_feedback_turn_id_turns_id_fk" FOREIGN KEY ("turn_id") REFERENCES "public"."turns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "turn_feedback" ADD CONSTRAINT "turn_feedback_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "turn_feedback" ADD CONSTRAINT "turn_feedback_capsule_id_capsules_id_fk" FOREIGN KEY ("capsule_id") REFERENCES "public"."capsules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "turn_feedback" ADD CONSTRAINT "turn_feedback_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "turn_feedback_revision_idx" ON "turn_feedback" USING btree ("turn_id","revision");--> statement-breakpoint
CREATE UNIQUE INDEX "learning_updates_step_idx" ON "learning_updates" USING btree ("capsule_id","turn_id","iteration_number","source");--> statement-breakpoint
CREATE INDEX "memories_scope_idx" ON "memories" USING btree ("tenant_id","capsule_id","user_id","created_at");--> statement-breakpoint
CREATE INDEX "memories_search_idx" ON "memories" USING gin ("search") WITH (fastupdate=false);--> statement-breakpoint
CREATE UNIQUE INDEX "memories_scope_key_idx" ON "memories" USING btree ("tenant_id","capsule_id","user_id","key");