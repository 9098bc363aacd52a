-- A memory's words go into a bounded pending list (merged in bulk by the insert that fills it) instead of one GIN insert per word.
ALTER INDEX "memories_search_idx" SET (fastupdate = true, gin_pending_list_limit = 128);
