import { and, asc, desc, eq, gte, lt, ne, sql } from 'drizzle-orm';
import type { Neuromodulators, Weights } from '../../../ports/learning.js';
import type { TurnRecord, TurnRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { rlmIterations, turns } from '../schema.js';
import { olderThan } from './keyset.js';

const toTurn = (row: typeof turns.$inferSelect): TurnRecord => ({
  ...row,
  weightsStart: row.weightsStart as Weights,
  neuromodulatorsStart: row.neuromodulatorsStart as Neuromodulators,
  settings: row.settings as Record<string, unknown>,
  error: row.error as TurnRecord['error'],
});

export function turnRepository(db: Executor): TurnRepository {
  return {
    async insert(turn) {
      await db.insert(turns).values({ ...turn, status: 'running' });
    },
    async finish(id, outcome) {
      await db.update(turns).set(outcome).where(eq(turns.id, id));
    },
    async find(id) {
      const [row] = await db.select().from(turns).where(eq(turns.id, id));
      return row && toTurn(row);
    },
    async findInTenant(tenantId, id) {
      const [row] = await db.select().from(turns).where(and(eq(turns.id, id), eq(turns.tenantId, tenantId)));
      return row && toTurn(row);
    },
    async countByConversation(conversationId) {
      const [row] = await db.select({ total: sql<number>`count(*)::int` }).from(turns).where(eq(turns.conversationId, conversationId));
      return Number(row?.total ?? 0);
    },
    async listByConversation(conversationId, { limit, after }) {
      const rows = await db
        .select()
        .from(turns)
        .where(and(eq(turns.conversationId, conversationId), olderThan(turns.startedAt, turns.id, after)))
        .orderBy(desc(turns.startedAt), desc(turns.id))
        .limit(limit);
      return rows.map(toTurn);
    },
    async listFinishedIds({ conversationId, since }) {
      const rows = await db
        .select({ id: turns.id })
        .from(turns)
        .where(and(conversationId ? eq(turns.conversationId, conversationId) : undefined, since ? gte(turns.startedAt, since) : undefined, ne(turns.status, 'running')))
        .orderBy(asc(turns.startedAt));
      return rows.map((row) => row.id);
    },
    async markInterrupted({ startedBefore }, { at, error }) {
      const rows = await db
        .update(turns)
        .set({
          status: 'interrupted',
          exitReason: 'error',
          iterations: sql`(select count(*)::int from ${rlmIterations} where ${rlmIterations.turnId} = ${turns.id})`,
          error,
          completedAt: at,
        })
        .where(and(eq(turns.status, 'running'), lt(turns.startedAt, startedBefore)))
        .returning({ id: turns.id });
      return rows.length;
    },
  };
}
