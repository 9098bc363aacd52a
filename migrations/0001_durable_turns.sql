CREATE TABLE "approvals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"turn_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"capsule_id" uuid NOT NULL,
	"iteration_number" integer NOT NULL,
	"call_id" text NOT NULL,
	"tool" text NOT NULL,
	"args" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reason" text,
	"decided_by" text,
	"requested_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"outcome" jsonb
);
--> statement-breakpoint
ALTER TABLE "outbox_messages" ADD COLUMN "position" bigint;--> statement-breakpoint
ALTER TABLE "outbox_messages" ADD COLUMN "turn_id" uuid;--> statement-breakpoint
ALTER TABLE "rlm_iterations" ADD COLUMN "stream_events" jsonb;--> statement-breakpoint
ALTER TABLE "turns" ADD COLUMN "run_started_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "turns" ADD COLUMN "resumes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "turns" ADD COLUMN "stream_events" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_turn_id_turns_id_fk" FOREIGN KEY ("turn_id") REFERENCES "public"."turns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_capsule_id_capsules_id_fk" FOREIGN KEY ("capsule_id") REFERENCES "public"."capsules"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_turn_call_idx" ON "approvals" USING btree ("turn_id","call_id");--> statement-breakpoint
CREATE INDEX "approvals_tenant_status_idx" ON "approvals" USING btree ("tenant_id","status","requested_at");--> statement-breakpoint
CREATE INDEX "approvals_pending_expiry_idx" ON "approvals" USING btree ("expires_at") WHERE status = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_position_idx" ON "outbox_messages" USING btree ("position");--> statement-breakpoint
CREATE INDEX "outbox_tenant_position_idx" ON "outbox_messages" USING btree ("tenant_id","position");--> statement-breakpoint
CREATE INDEX "outbox_unnumbered_idx" ON "outbox_messages" USING btree ("seq") WHERE position IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_turn_pending_idx" ON "outbox_messages" USING btree ("turn_id","seq") WHERE status = 'pending';