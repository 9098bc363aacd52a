import { asc, eq } from 'drizzle-orm';
import type { Evidence, Neuromodulators, Weights } from '../../../ports/learning.js';
import type { LearningUpdateRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { learningUpdates } from '../schema.js';

export function learningUpdateRepository(db: Executor): LearningUpdateRepository {
  return {
    async listByTurn(turnId) {
      const rows = await db.select().from(learningUpdates).where(eq(learningUpdates.turnId, turnId)).orderBy(asc(learningUpdates.seq));
      return rows.map((row) => ({
        seq: row.seq,
        kind: row.kind,
        source: row.source ?? (row.kind === 'learn' ? 'iteration' : null),
        turnId: row.turnId,
        iterationNumber: row.iterationNumber,
        weightsBefore: row.weightsBefore as Weights,
        neuromodulatorsBefore: row.neuromodulatorsBefore as Neuromodulators,
        baselineBefore: row.baselineBefore,
        evidenceBefore: row.evidenceBefore as Evidence,
        weightsAfter: row.weightsAfter as Weights,
        neuromodulatorsAfter: row.neuromodulatorsAfter as Neuromodulators,
        baselineAfter: row.baselineAfter,
        evidenceAfter: row.evidenceAfter as Evidence,
        inputs: row.inputs as Record<string, unknown>,
      }));
    },
  };
}
