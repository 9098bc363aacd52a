import { and, asc, eq, gt } from 'drizzle-orm';
import { isUuid, readCapsuleState } from '../../adapters/brain/local/index.js';
import { tables, type Database } from '../../adapters/store/index.js';
import type { Neuromodulators, Weights } from '../../ports/learning.js';
import { SomaError } from '../../shared/errors.js';

/** One row of a capsule's learning history, as the API returns it. */
export interface LearningHistoryEntry {
  seq: number;
  kind: 'learn' | 'rollback' | 'reset';
  turn_id: string | null;
  iteration_number: number | null;
  weights_before: Weights;
  weights_after: Weights;
  neuromodulators_before: Neuromodulators;
  neuromodulators_after: Neuromodulators;
  reward_baseline_before: number;
  reward_baseline_after: number;
  reward: number | null;
  advantage: number | null;
  created_at: string;
}

/** `GET /v1/capsules/:id/learning`: the current state and one page of the history, oldest first. */
export interface LearningHistoryPage {
  weights: Weights;
  neuromodulators: Neuromodulators;
  reward_baseline: number;
  learning_version: number;
  history: LearningHistoryEntry[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

/**
 * A capsule's learned state and history, oldest first, `limit` rows after `cursor` (the `seq` of the
 * last row seen). Tenant-scoped: a capsule of another tenant is CAPSULE_NOT_FOUND.
 */
export async function getLearningHistory({
  database,
  tenantId,
  capsuleId,
  limit = 50,
  cursor,
}: {
  database: Database;
  tenantId: string;
  capsuleId: string;
  limit?: number;
  cursor?: string;
}): Promise<LearningHistoryPage> {
  const after = cursor === undefined || cursor === '' ? 0 : Number(cursor);
  if (!Number.isSafeInteger(after) || after < 0) throw new SomaError('VALIDATION_FAILED', `cursor must be a cursor returned by this endpoint (got "${cursor}")`);
  const size = Math.min(500, Math.max(1, Math.floor(limit)));
  if (!isUuid(capsuleId)) throw new SomaError('CAPSULE_NOT_FOUND', `capsule ${capsuleId} not found`);
  // One snapshot: the state and the page agree even while turns keep learning.
  return database.db.transaction(async (tx) => {
    const state = await readCapsuleState(tx, { tenantId, capsuleId });
    const rows = await tx
      .select()
      .from(tables.learningUpdates)
      .where(and(eq(tables.learningUpdates.capsuleId, capsuleId), eq(tables.learningUpdates.tenantId, tenantId), gt(tables.learningUpdates.seq, after)))
      .orderBy(asc(tables.learningUpdates.seq))
      .limit(size + 1);
    const page = rows.slice(0, size);
    return {
      weights: state.weights,
      neuromodulators: state.neuromodulators,
      reward_baseline: state.rewardBaseline,
      learning_version: state.learning_version,
      history: page.map((row) => ({
        seq: row.seq,
        kind: row.kind,
        turn_id: row.turnId,
        iteration_number: row.iterationNumber,
        weights_before: row.weightsBefore as Weights,
        weights_after: row.weightsAfter as Weights,
        neuromodulators_before: row.neuromodulatorsBefore as Neuromodulators,
        neuromodulators_after: row.neuromodulatorsAfter as Neuromodulators,
        reward_baseline_before: row.baselineBefore,
        reward_baseline_after: row.baselineAfter,
        reward: row.reward,
        advantage: row.advantage,
        created_at: row.createdAt.toISOString(),
      })),
      next_cursor: rows.length > size ? String(page[page.length - 1]!.seq) : null,
    };
  });
}
