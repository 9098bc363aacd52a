import { and, asc, eq } from 'drizzle-orm';
import { appendLearningUpdate, isUuid, lockCapsuleState } from '../../adapters/brain/local/index.js';
import { tables, type Database } from '../../adapters/store/index.js';
import { defaultLearnedState, resolveLearningConfig } from '../../core/learning/index.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { LearnedState, Neuromodulators, Weights } from '../../ports/learning.js';
import { SomaError } from '../../shared/errors.js';
import { writeEvent } from '../events.js';

/** What a rollback or reset did. */
export interface RewindResult {
  /** The history row the rollback / reset appended. */
  seq: number;
  weights: Weights;
  neuromodulators: Neuromodulators;
  reward_baseline: number;
  learning_version: number;
  /** Rollback: the history row whose before-state was restored. */
  restored_from_seq?: number;
}

/**
 * `POST /v1/capsules/:id/learning/rollback` (REVERSE-001): restores exactly the state that held before
 * history row `toSeq`, or before the first row of turn `toTurnId` (its `weights_before`,
 * `neuromodulators_before` and reward baseline). Appends a `rollback` row and a `learning.rolled_back`
 * event in the same transaction as the capsule update. Unknown points are LEARNING_POINT_NOT_FOUND.
 */
export async function rollbackLearning({
  database,
  tenantId,
  capsuleId,
  toSeq,
  toTurnId,
  clock = systemClock,
}: {
  database: Database;
  tenantId: string;
  capsuleId: string;
  toSeq?: number;
  toTurnId?: string;
  clock?: Clock;
}): Promise<RewindResult> {
  if ((toSeq === undefined) === (toTurnId === undefined)) throw new SomaError('VALIDATION_FAILED', 'give exactly one of to_seq or to_turn_id');
  if (toSeq !== undefined && (!Number.isSafeInteger(toSeq) || toSeq < 1)) throw new SomaError('VALIDATION_FAILED', 'to_seq must be a whole number ≥ 1');
  return database.db.transaction(async (tx) => {
    const locked = await lockCapsuleState(tx, { tenantId, capsuleId });
    const point = tables.learningUpdates;
    const where =
      toSeq !== undefined
        ? and(eq(point.capsuleId, capsuleId), eq(point.seq, toSeq))
        : isUuid(toTurnId!)
          ? and(eq(point.capsuleId, capsuleId), eq(point.turnId, toTurnId!))
          : undefined;
    const rows = where ? await tx.select().from(point).where(where).orderBy(asc(point.seq)).limit(1) : [];
    const row = rows[0];
    if (!row) {
      throw new SomaError(
        'LEARNING_POINT_NOT_FOUND',
        toSeq !== undefined ? `capsule ${capsuleId} has no learning update ${toSeq}` : `capsule ${capsuleId} has no learning update for turn ${toTurnId}`,
      );
    }
    const restored: LearnedState = {
      weights: row.weightsBefore as Weights,
      neuromodulators: row.neuromodulatorsBefore as Neuromodulators,
      rewardBaseline: row.baselineBefore,
    };
    const now = new Date(clock.now());
    const seq = await appendLearningUpdate(tx, locked, {
      kind: 'rollback',
      after: restored,
      inputs: { to_seq: toSeq ?? null, to_turn_id: toTurnId ?? null, restored_from_seq: row.seq },
      createdAt: now,
    });
    await writeEvent(tx as never, {
      eventType: 'learning.rolled_back',
      tenantId,
      capsuleId,
      subject: `${capsuleId}:${seq}`,
      occurredAt: now,
      payload: { seq, to_seq: toSeq ?? null, to_turn_id: toTurnId ?? null, restored_from_seq: row.seq, weights: restored.weights, neuromodulators: restored.neuromodulators, reward_baseline: restored.rewardBaseline },
    });
    return { seq, ...stateOf(restored), learning_version: seq, restored_from_seq: row.seq };
  });
}

/**
 * `POST /v1/capsules/:id/learning/reset`: restores the defaults of the capsule's learning config
 * (weights, neuromodulators, reward baseline). Appends a `reset` row and a `learning.reset` event in the
 * same transaction as the capsule update.
 */
export async function resetLearning({
  database,
  tenantId,
  capsuleId,
  clock = systemClock,
}: {
  database: Database;
  tenantId: string;
  capsuleId: string;
  clock?: Clock;
}): Promise<RewindResult> {
  return database.db.transaction(async (tx) => {
    const locked = await lockCapsuleState(tx, { tenantId, capsuleId });
    const defaults = defaultLearnedState({ config: resolveLearningConfig(locked.learningConfig) });
    const now = new Date(clock.now());
    const seq = await appendLearningUpdate(tx, locked, { kind: 'reset', after: defaults, inputs: {}, createdAt: now });
    await writeEvent(tx as never, {
      eventType: 'learning.reset',
      tenantId,
      capsuleId,
      subject: `${capsuleId}:${seq}`,
      occurredAt: now,
      payload: { seq, weights: defaults.weights, neuromodulators: defaults.neuromodulators, reward_baseline: defaults.rewardBaseline },
    });
    return { seq, ...stateOf(defaults), learning_version: seq };
  });
}

function stateOf(state: LearnedState): Pick<RewindResult, 'weights' | 'neuromodulators' | 'reward_baseline'> {
  return { weights: state.weights, neuromodulators: state.neuromodulators, reward_baseline: state.rewardBaseline };
}
