import { asc, eq } from 'drizzle-orm';
import type { Neuromodulators, Weights } from '../../../ports/learning.js';
import type { LearningUpdateRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { learningUpdates } from '../schema.js';

export function learningUpdateRepository(db: Executor): LearningUpdateRepository {
  return {
    async listByTurn(turnId) {
      const rows = await db
        .select({
          seq: learningUpdates.seq,
          kind: learningUpdates.kind,
          turnId: learningUpdates.turnId,
          iterationNumber: learningUpdates.iterationNumber,
          weightsBefore: learningUpdates.weightsBefore,
          neuromodulatorsBefore: learningUpdates.neuromodulatorsBefore,
          baselineBefore: learningUpdates.baselineBefore,
        })
        .from(learningUpdates)
        .where(eq(learningUpdates.turnId, turnId))
        .orderBy(asc(learningUpdates.seq));
      return rows.map((row) => ({ ...row, weightsBefore: row.weightsBefore as Weights, neuromodulatorsBefore: row.neuromodulatorsBefore as Neuromodulators }));
    },
  };
}
