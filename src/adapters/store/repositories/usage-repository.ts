import { and, eq, lt, sql } from 'drizzle-orm';
import type { UsageRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { tenantUsage } from '../schema.js';

export function usageRepository(db: Executor): UsageRepository {
  return {
    async admitTurn(tenantId, windowStart, limit) {
      // One statement: the row is created at 1 or raised by 1 only while below the limit, so servers
      // racing on the same window never admit more than `limit` between them.
      const rows = await db
        .insert(tenantUsage)
        .values({ tenantId, kind: 'turns', windowStart, amount: 1 })
        .onConflictDoUpdate({
          target: [tenantUsage.tenantId, tenantUsage.kind, tenantUsage.windowStart],
          set: { amount: sql`${tenantUsage.amount} + 1` },
          setWhere: sql`${tenantUsage.amount} < ${limit}`,
        })
        .returning({ amount: tenantUsage.amount });
      return rows[0]?.amount;
    },
    async addTokens(tenantId, windowStart, tokens) {
      if (tokens <= 0) return;
      await db
        .insert(tenantUsage)
        .values({ tenantId, kind: 'tokens', windowStart, amount: tokens })
        .onConflictDoUpdate({ target: [tenantUsage.tenantId, tenantUsage.kind, tenantUsage.windowStart], set: { amount: sql`${tenantUsage.amount} + ${tokens}` } });
    },
    async used(tenantId, kind, windowStart) {
      const [row] = await db
        .select({ amount: tenantUsage.amount })
        .from(tenantUsage)
        .where(and(eq(tenantUsage.tenantId, tenantId), eq(tenantUsage.kind, kind), eq(tenantUsage.windowStart, windowStart)));
      return row?.amount ?? 0;
    },
    async forget(tenantId, kind, before) {
      await db.delete(tenantUsage).where(and(eq(tenantUsage.tenantId, tenantId), eq(tenantUsage.kind, kind), lt(tenantUsage.windowStart, before)));
    },
  };
}
