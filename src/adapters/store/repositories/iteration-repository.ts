import { and, asc, desc, eq, getTableColumns, sql } from 'drizzle-orm';
import type { LlmOutput, ToolCall } from '../../../ports/chat-model.js';
import type { Neuromodulators, Weights } from '../../../ports/learning.js';
import type { IterationRepository, StoredIteration } from '../../../ports/store.js';
import type { ToolOutcome } from '../../../ports/tools.js';
import type { Executor } from '../database.js';
import { packBatch } from './stream-event-batch.js';
import { rlmIterations } from '../schema.js';

/** Every column but the stored SSE events (read only by the event stream). */
const { streamEvents: _events, ...iterationColumns } = getTableColumns(rlmIterations);

const toIteration = (row: Omit<typeof rlmIterations.$inferSelect, 'streamEvents'>): StoredIteration => ({
  ...row,
  llmOutput: row.llmOutput as LlmOutput,
  weightsBefore: row.weightsBefore as Weights,
  weightsAfter: row.weightsAfter as Weights,
  weightDeltas: row.weightDeltas as Weights,
  neuromodulatorsBefore: row.neuromodulatorsBefore as Neuromodulators,
  neuromodulatorsAfter: row.neuromodulatorsAfter as Neuromodulators,
  toolCalls: row.toolCalls as ToolCall[],
  toolResults: row.toolResults as ToolOutcome[],
});

export function iterationRepository(db: Executor): IterationRepository {
  return {
    async insert({ streamEvents, ...iteration }) {
      await db.insert(rlmIterations).values({ ...iteration, ...(streamEvents ? { streamEvents: packBatch(streamEvents) } : {}) });
    },
    async listByTurn(turnId) {
      const rows = await db.select(iterationColumns).from(rlmIterations).where(eq(rlmIterations.turnId, turnId)).orderBy(asc(rlmIterations.iterationNumber));
      return rows.map(toIteration);
    },
    async markLastExit(turnId, iterationNumber, exitReason) {
      await db
        .update(rlmIterations)
        .set({ exitReason, metadata: sql`jsonb_set(${rlmIterations.metadata}, '{decided}', to_jsonb(${rlmIterations.exitReason}))` })
        .where(and(eq(rlmIterations.turnId, turnId), eq(rlmIterations.iterationNumber, iterationNumber), eq(rlmIterations.exitReason, 'continue')));
    },
    async restoreLastExit(turnId) {
      const [last] = await db.select({ id: rlmIterations.id }).from(rlmIterations).where(eq(rlmIterations.turnId, turnId)).orderBy(desc(rlmIterations.iterationNumber)).limit(1);
      if (!last) return;
      await db
        .update(rlmIterations)
        .set({ exitReason: sql`${rlmIterations.metadata}->>'decided'`, metadata: sql`${rlmIterations.metadata} - 'decided'` })
        .where(and(eq(rlmIterations.id, last.id), sql`${rlmIterations.metadata} ? 'decided'`));
    },
  };
}
