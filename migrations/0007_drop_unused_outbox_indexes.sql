-- Two outbox indexes nothing reads: (tenant_id, seq) since the events API pages by position
-- (outbox_tenant_position_idx), and seq alone (the relay claims through outbox_pending_idx, numbering
-- through outbox_unnumbered_idx, marks by id; seq is a sequence's value, unique by itself). Each cost
-- every outbox insert one more entry, 5 rows a turn.
DROP INDEX "outbox_seq_idx";--> statement-breakpoint
DROP INDEX "outbox_tenant_seq_idx";