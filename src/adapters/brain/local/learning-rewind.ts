import { and, asc, eq, gt } from 'drizzle-orm';
import { defaultLearnedState, resolveLearningConfig } from '../../../core/learning/index.js';
import type { BrainScope, LearningHistoryPage, LearningPoint, RewindOptions, RewindResult } from '../../../ports/brain.js';
import type { Clock } from '../../../ports/clock.js';
import type { LearnedState, Neuromodulators, Weights } from '../../../ports/learning.js';
import type { Failure } from '../../../shared/errors.js';
import { ok, refuse, type Result } from '../../../shared/result.js';
import { learningSourceOf, tables, type Database } from '../../store/index.js';
import { appendLearningUpdate, isUuid, lockCapsuleState, readCapsuleState, rowState, type LedgerTx, type LockedCapsuleState } from './learning-ledger.js';

const notFound = (capsuleId: string) => refuse('CAPSULE_NOT_FOUND', `capsule ${capsuleId} not found`);

/** The capsule's state and one page of its history in one snapshot (a transaction). */
export function readLearningHistory(database: Database, scope: BrainScope, { limit, after }: { limit: number; after: number }): Promise<Result<LearningHistoryPage, Failure>> {
  return database.db.transaction(async (tx) => {
    const state = await readCapsuleState(tx, scope);
    if (!state) return notFound(scope.capsuleId);
    const updates = tables.learningUpdates;
    const rows = await tx
      .select()
      .from(updates)
      .where(and(eq(updates.capsuleId, scope.capsuleId), eq(updates.tenantId, scope.tenantId), gt(updates.seq, after)))
      .orderBy(asc(updates.seq))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return ok({
      weights: state.weights,
      neuromodulators: state.neuromodulators,
      reward_baseline: state.rewardBaseline,
      learning_version: state.learning_version,
      history: page.map((row) => ({
        seq: row.seq,
        kind: row.kind,
        source: learningSourceOf(row),
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
      next_cursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    });
  });
}

/** Restores the before-state of a history row or of a turn's first row, appending a `rollback` row. */
export function rollbackTo(database: Database, clock: Clock, scope: BrainScope, to: LearningPoint, options: RewindOptions): Promise<Result<RewindResult & { persisted?: boolean }, Failure>> {
  return database.db.transaction(async (tx) => {
    const locked = await lockCapsuleState(tx, scope);
    if (!locked) return notFound(scope.capsuleId);
    const updates = tables.learningUpdates;
    const where =
      'seq' in to
        ? and(eq(updates.capsuleId, scope.capsuleId), eq(updates.seq, to.seq))
        : isUuid(to.turnId)
          ? and(eq(updates.capsuleId, scope.capsuleId), eq(updates.turnId, to.turnId))
          : undefined;
    const [row] = where ? await tx.select().from(updates).where(where).orderBy(asc(updates.seq)).limit(1) : [];
    if (!row) {
      return refuse(
        'LEARNING_POINT_NOT_FOUND',
        'seq' in to ? `capsule ${scope.capsuleId} has no learning update ${to.seq}` : `capsule ${scope.capsuleId} has no learning update for turn ${to.turnId}`,
      );
    }
    const restored: LearnedState = rowState(row);
    const inputs = { to_seq: 'seq' in to ? to.seq : null, to_turn_id: 'turnId' in to ? to.turnId : null, restored_from_seq: row.seq };
    return ok(await rewind(tx, locked, { kind: 'rollback', after: restored, inputs, createdAt: new Date(clock.now()), restoredFromSeq: row.seq }, options));
  });
}

/** Restores the defaults of the capsule's learning config, appending a `reset` row. */
export function resetToDefaults(database: Database, clock: Clock, scope: BrainScope, options: RewindOptions): Promise<Result<RewindResult & { persisted?: boolean }, Failure>> {
  return database.db.transaction(async (tx) => {
    const locked = await lockCapsuleState(tx, scope);
    if (!locked) return notFound(scope.capsuleId);
    const defaults = defaultLearnedState({ config: resolveLearningConfig(locked.learningConfig) });
    return ok(await rewind(tx, locked, { kind: 'reset', after: defaults, inputs: {}, createdAt: new Date(clock.now()) }, options));
  });
}

async function rewind(
  tx: LedgerTx,
  locked: LockedCapsuleState,
  { kind, after, inputs, createdAt, restoredFromSeq }: { kind: 'rollback' | 'reset'; after: LearnedState; inputs: Record<string, unknown>; createdAt: Date; restoredFromSeq?: number },
  options: RewindOptions,
): Promise<RewindResult & { persisted?: boolean }> {
  const seq = await appendLearningUpdate(tx, locked, { kind, after, inputs, createdAt });
  const result: RewindResult = {
    seq,
    weights: after.weights,
    neuromodulators: after.neuromodulators,
    reward_baseline: after.rewardBaseline,
    learning_version: seq,
    ...(restoredFromSeq !== undefined ? { restored_from_seq: restoredFromSeq } : {}),
  };
  if (!options.persist) return result;
  await options.persist(result, tx);
  return { ...result, persisted: true };
}
