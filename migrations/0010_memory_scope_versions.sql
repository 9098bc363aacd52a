-- A memory scope's write counter (see memory_scopes in schema.ts): a statement that writes memories of a
-- scope raises its version under the row's lock and stamps the rows it writes with it; one that deletes
-- raises the epoch too. A process keeps each scope's recall window and reads only the rows changed since
-- the version it holds (a recall walked the scope's 500 newest rows on every turn: 0.55 ms of PostgreSQL).
-- Memories written before have version 0 and no scope row: a first recall reads the whole window.
CREATE TABLE "memory_scopes" (
	"tenant_id" uuid NOT NULL,
	"capsule_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"epoch" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "memory_scopes_tenant_id_capsule_id_user_id_pk" PRIMARY KEY("tenant_id","capsule_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "memories" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "memories_scope_version_idx" ON "memories" USING btree ("tenant_id","capsule_id","user_id","version");