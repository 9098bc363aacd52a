import { asc, eq } from 'drizzle-orm';
import type { Evidence, LearningSource, Neuromodulators, Weights } from '../../../ports/learning.js';
import type { LearningUpdateRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { learningUpdates } from '../schema.js';

/** What a history row learned from: as stored, or — for a `learn` row written before rows named it — an iteration. */
export function learningSourceOf(row: { source: LearningSource | null; kind: string }): LearningSource | null {
  return row.source ?? (row.kind === 'learn' ? 'iteration' : null);
}

export function learningUpdateRepository(db: Executor): LearningUpdateRepository {
  return {
    async listByTurn(turnId) {
      const rows = await db.select().from(learningUpdates).where(eq(learningUpdates.turnId, turnId)).orderBy(asc(learningUpdates.seq));
      return rows.map((row) => ({
        seq: row.seq,
        kind: row.kind,
        source: learningSourceOf(row),
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
