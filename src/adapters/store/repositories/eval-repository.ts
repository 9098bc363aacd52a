import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { EvalRepository, EvalResultRecord, EvalRunRecord } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { evalResults, evalRuns } from '../schema.js';
import { olderThan } from './keyset.js';

const toRun = (row: typeof evalRuns.$inferSelect): EvalRunRecord => ({
  ...row,
  configurations: row.configurations as string[],
  summary: row.summary as unknown[],
  environment: row.environment as Record<string, unknown>,
});

export function evalRepository(db: Executor): EvalRepository {
  return {
    async insertRun(run) {
      await db.insert(evalRuns).values(run);
    },
    async findRun(tenantId, id) {
      const [row] = await db.select().from(evalRuns).where(and(eq(evalRuns.id, id), eq(evalRuns.tenantId, tenantId)));
      return row && toRun(row);
    },
    async listRuns(tenantId, { limit, after }) {
      const rows = await db
        .select()
        .from(evalRuns)
        .where(and(eq(evalRuns.tenantId, tenantId), olderThan(evalRuns.createdAt, evalRuns.id, after)))
        .orderBy(desc(evalRuns.createdAt), desc(evalRuns.id))
        .limit(limit);
      return rows.map(toRun);
    },
    async findResumable(tenantId, datasetHash, configurations) {
      const [row] = await db
        .select()
        .from(evalRuns)
        .where(and(eq(evalRuns.tenantId, tenantId), eq(evalRuns.datasetHash, datasetHash), sql`${evalRuns.status} in ('running', 'interrupted')`, sql`${evalRuns.configurations} = ${JSON.stringify(configurations)}::jsonb`))
        .orderBy(desc(evalRuns.createdAt))
        .limit(1);
      return row && toRun(row);
    },
    async findRunning(tenantId) {
      const [row] = await db.select().from(evalRuns).where(and(eq(evalRuns.tenantId, tenantId), eq(evalRuns.status, 'running'))).limit(1);
      return row && toRun(row);
    },
    async updateRun(id, changes) {
      await db.update(evalRuns).set(changes).where(eq(evalRuns.id, id));
    },
    async insertResult(result) {
      await db.insert(evalResults).values(result).onConflictDoNothing({ target: [evalResults.runId, evalResults.configuration, evalResults.itemIndex] });
    },
    async listResults(runId) {
      const rows = await db.select().from(evalResults).where(eq(evalResults.runId, runId)).orderBy(evalResults.itemIndex, evalResults.configuration);
      return rows as EvalResultRecord[];
    },
    async markInterrupted(updatedBefore) {
      const rows = await db
        .update(evalRuns)
        .set({ status: 'interrupted' })
        .where(and(eq(evalRuns.status, 'running'), lt(evalRuns.updatedAt, updatedBefore)))
        .returning({ id: evalRuns.id });
      return rows.length;
    },
  };
}
