-- An iteration's row (its draft, model output, metadata and SSE events: 4–6 KB) stays in the table's
-- own page instead of being compressed and cut into TOAST chunks: PostgreSQL toasts a row only above
-- `toast_tuple_target` (2 KB by default), and each chunk was one more heap insert and index entry
-- (pg_walinspect over 200 turns: heap inserts 25.1 → 17.1 and B-tree leaf inserts 66.8 → 58.3 a turn),
-- plus an lz4 pass over it. The price is disk: an iteration is stored uncompressed (WAL +2 % a turn).
-- A row above 8160 bytes (a long answer) is still toasted, as it must be to fit a page.
ALTER TABLE "rlm_iterations" SET (toast_tuple_target = 8160);
