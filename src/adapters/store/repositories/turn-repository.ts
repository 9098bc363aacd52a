import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Neuromodulators, Weights } from '../../../ports/learning.js';
import type { TurnRecord, TurnRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { turns } from '../schema.js';
import { olderThan } from './keyset.js';

const { streamEvents: _events, ...turnColumns } = getTableColumns(turns);

const toTurn = (row: Omit<typeof turns.$inferSelect, 'streamEvents'>): TurnRecord => ({
  ...row,
  weightsStart: row.weightsStart as Weights,
  neuromodulatorsStart: row.neuromodulatorsStart as Neuromodulators,
  settings: row.settings as Record<string, unknown>,
  error: row.error as TurnRecord['error'],
});

export function turnRepository(db: Executor): TurnRepository {
  return {
    async insert({ streamEvents, ...turn }) {
      await db.insert(turns).values({ ...turn, status: 'running', runStartedAt: turn.startedAt, streamEvents: [streamEvents] });
    },
    async finish(id, { streamEvents, ...outcome }) {
      const rows = await db
        .update(turns)
        .set({ ...outcome, ...(streamEvents ? { streamEvents: sql`${turns.streamEvents} || ${JSON.stringify([streamEvents])}::jsonb` } : {}) })
        .where(and(eq(turns.id, id), eq(turns.status, 'running')))
        .returning({ id: turns.id });
      return rows.length > 0;
    },
    async setStatus(id, { from, to, at }) {
      const rows = await db
        .update(turns)
        .set({ status: to, ...(to === 'running' ? { runStartedAt: at } : {}) })
        .where(and(eq(turns.id, id), eq(turns.status, from)))
        .returning({ id: turns.id });
      return rows.length > 0;
    },
    async reopen(id, at) {
      const [row] = await db
        .update(turns)
        .set({ status: 'running', exitReason: null, error: null, completedAt: null, runStartedAt: at, resumes: sql`${turns.resumes} + 1` })
        .where(and(eq(turns.id, id), inArray(turns.status, ['interrupted', 'failed'])))
        .returning(turnColumns);
      return row && toTurn(row);
    },
    async find(id) {
      const [row] = await db.select(turnColumns).from(turns).where(eq(turns.id, id));
      return row && toTurn(row);
    },
    async findInTenant(tenantId, id) {
      const [row] = await db.select(turnColumns).from(turns).where(and(eq(turns.id, id), eq(turns.tenantId, tenantId)));
      return row && toTurn(row);
    },
    async countByConversation(conversationId) {
      const [row] = await db.select({ total: sql<number>`count(*)::int` }).from(turns).where(eq(turns.conversationId, conversationId));
      return Number(row?.total ?? 0);
    },
    async listByConversation(conversationId, { limit, after }) {
      const rows = await db
        .select(turnColumns)
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
        .where(and(conversationId ? eq(turns.conversationId, conversationId) : undefined, since ? gte(turns.startedAt, since) : undefined, ne(turns.status, 'running'), ne(turns.status, 'awaiting_approval')))
        .orderBy(asc(turns.startedAt));
      return rows.map((row) => row.id);
    },
    async listStale(runStartedBefore, limit) {
      const rows = await db
        .select({ id: turns.id })
        .from(turns)
        .where(and(eq(turns.status, 'running'), lt(turns.runStartedAt, runStartedBefore)))
        .orderBy(asc(turns.runStartedAt))
        .limit(limit);
      return rows.map((row) => row.id);
    },
  };
}
