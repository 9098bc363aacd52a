import { asc, eq } from 'drizzle-orm';
import type { LlmOutput, ToolCall } from '../../../ports/chat-model.js';
import type { Neuromodulators, Weights } from '../../../ports/learning.js';
import type { IterationRepository, StoredIteration } from '../../../ports/store.js';
import type { ToolOutcome } from '../../../ports/tools.js';
import type { Executor } from '../database.js';
import { rlmIterations } from '../schema.js';

const toIteration = (row: typeof rlmIterations.$inferSelect): StoredIteration => ({
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
    async insert(iteration) {
      await db.insert(rlmIterations).values(iteration);
    },
    async listByTurn(turnId) {
      const rows = await db.select().from(rlmIterations).where(eq(rlmIterations.turnId, turnId)).orderBy(asc(rlmIterations.iterationNumber));
      return rows.map(toIteration);
    },
  };
}
