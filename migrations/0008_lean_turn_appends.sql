-- The rows a turn appends carry no foreign keys: messages, iterations, learning steps and memories are
-- written by the turn's own statements, after the rows they point at (the turn's start commits first,
-- a learning step updates its capsule in the same statement), and nothing deletes a tenant, capsule,
-- conversation or turn. Each key checked cost the statement a parent row locked FOR KEY SHARE — a
-- WAL record and a dirtied page each, a MultiXact when concurrent turns lock the same capsule or
-- tenant: 25 row locks a turn (pg_walinspect: Heap/LOCK), 18 of them these.
-- The outbox's two position indexes hold only numbered events: a position is given after commit,
-- so an event's insert no longer writes their null entries (7 → 5 index entries per event, 5 a turn).
ALTER TABLE "learning_updates" DROP CONSTRAINT "learning_updates_capsule_id_capsules_id_fk";
--> statement-breakpoint
ALTER TABLE "learning_updates" DROP CONSTRAINT "learning_updates_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "memories" DROP CONSTRAINT "memories_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "memories" DROP CONSTRAINT "memories_capsule_id_capsules_id_fk";
--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_conversation_id_conversations_id_fk";
--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_turn_id_turns_id_fk";
--> statement-breakpoint
ALTER TABLE "rlm_iterations" DROP CONSTRAINT "rlm_iterations_turn_id_turns_id_fk";
--> statement-breakpoint
ALTER TABLE "rlm_iterations" DROP CONSTRAINT "rlm_iterations_conversation_id_conversations_id_fk";
--> statement-breakpoint
DROP INDEX "outbox_position_idx";--> statement-breakpoint
DROP INDEX "outbox_tenant_position_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_position_idx" ON "outbox_messages" USING btree ("position") WHERE position IS NOT NULL;--> statement-breakpoint
CREATE INDEX "outbox_tenant_position_idx" ON "outbox_messages" USING btree ("tenant_id","position") WHERE position IS NOT NULL;