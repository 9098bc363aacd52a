import type { AppContext } from './context.js';
import { recoverInterruptedTurns } from './send-message/index.js';
import { expireApprovals } from './turns/index.js';

/** The periodic sweep: turns crashed processes left running are closed; approvals past their time count as denied. */
export async function sweepTurns(ctx: AppContext, { olderThanMs }: { olderThanMs: number }): Promise<{ recovered: number; expired: number }> {
  const recovered = await recoverInterruptedTurns(ctx, { olderThanMs });
  const expired = await expireApprovals(ctx);
  return { recovered, expired };
}

/** Rows deleted per statement, and statements per run at most (a run stays short; the next one goes on). */
const PRUNE_BATCH = 1_000;
const PRUNE_BATCHES = 100;

/**
 * Outbox retention (`SOMA_OUTBOX_RETENTION_DAYS`, SPEC §13.4): deletes, in batches, rows older than
 * the retention that are published — or, when no relay publishes (`relayed` false: the outbox is
 * then only the event log), rows of any status. Dead rows are kept while a relay runs (they need a
 * look). Returns how many were deleted.
 */
export async function pruneOutbox(ctx: Pick<AppContext, 'store' | 'clock'>, { retentionDays, relayed }: { retentionDays: number; relayed: boolean }): Promise<number> {
  const before = new Date(ctx.clock.now() - retentionDays * 86_400_000);
  const statuses: ('pending' | 'published' | 'dead')[] = relayed ? ['published'] : ['pending', 'published', 'dead'];
  let deleted = 0;
  for (let batch = 0; batch < PRUNE_BATCHES; batch++) {
    const n = await ctx.store.events.deleteOlderThan({ before, statuses, limit: PRUNE_BATCH });
    deleted += n;
    if (n < PRUNE_BATCH) break;
  }
  return deleted;
}
