import type { BrainScope, LearningPoint, RewindOptions, RewindResult } from '../../ports/brain.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext } from '../context.js';
import { recordEvent, type NewEvent } from '../events.js';

export type { RewindResult } from '../../ports/brain.js';

type RewindContext = Pick<AppContext, 'brain' | 'store' | 'ids' | 'clock'>;

/**
 * `POST /v1/capsules/:id/learning/rollback` (REVERSE-001): restores exactly the state that held before
 * history row `toSeq`, or before the first row of turn `toTurnId`, and records `learning.rolled_back`
 * — in the brain's own transaction when it runs in process. Unknown points are LEARNING_POINT_NOT_FOUND.
 */
export async function rollbackLearning(
  ctx: RewindContext,
  { tenantId, capsuleId, toSeq, toTurnId }: { tenantId: string; capsuleId: string; toSeq?: number; toTurnId?: string },
): Promise<Result<RewindResult, Failure>> {
  if ((toSeq === undefined) === (toTurnId === undefined)) return refuse('VALIDATION_FAILED', 'give exactly one of to_seq or to_turn_id');
  if (toSeq !== undefined && (!Number.isSafeInteger(toSeq) || toSeq < 1)) return refuse('VALIDATION_FAILED', 'to_seq must be a whole number ≥ 1');
  const point: LearningPoint = toSeq !== undefined ? { seq: toSeq } : { turnId: toTurnId! };
  const scope = { tenantId, capsuleId };
  return rewindWithEvent(ctx, scope, (options) => ctx.brain.rollbackLearning(scope, point, options), (result) => ({
    eventType: 'learning.rolled_back',
    payload: {
      seq: result.seq,
      to_seq: toSeq ?? null,
      to_turn_id: toTurnId ?? null,
      restored_from_seq: result.restored_from_seq,
      weights: result.weights,
      neuromodulators: result.neuromodulators,
      reward_baseline: result.reward_baseline,
    },
  }));
}

/**
 * `POST /v1/capsules/:id/learning/reset`: restores the defaults of the capsule's learning config
 * (weights, neuromodulators, reward baseline) and records `learning.reset`.
 */
export async function resetLearning(ctx: RewindContext, { tenantId, capsuleId }: { tenantId: string; capsuleId: string }): Promise<Result<RewindResult, Failure>> {
  const scope = { tenantId, capsuleId };
  return rewindWithEvent(ctx, scope, (options) => ctx.brain.resetLearning(scope, options), (result) => ({
    eventType: 'learning.reset',
    payload: { seq: result.seq, weights: result.weights, neuromodulators: result.neuromodulators, reward_baseline: result.reward_baseline },
  }));
}

/**
 * Runs a rewind on the brain with its outbox event: inside the brain's transaction when it can take
 * the write (in process), else — a remote brain — in a transaction of this server's own right after.
 */
async function rewindWithEvent(
  ctx: RewindContext,
  scope: BrainScope,
  rewind: (options: RewindOptions) => Promise<Result<RewindResult & { persisted?: boolean }, Failure>>,
  eventOf: (result: RewindResult) => Pick<NewEvent, 'eventType' | 'payload'>,
): Promise<Result<RewindResult, Failure>> {
  const occurredAt = new Date(ctx.clock.now());
  const event = (result: RewindResult): NewEvent => ({ ...eventOf(result), tenantId: scope.tenantId, capsuleId: scope.capsuleId, subject: `${scope.capsuleId}:${result.seq}`, occurredAt });
  const done = await rewind({ persist: (result, transaction) => recordEvent(ctx.store.joinTransaction(transaction), ctx, event(result)).then(() => undefined) });
  if (!done.ok) return done;
  const { persisted, ...result } = done.value;
  if (!persisted) await ctx.store.transaction((tx) => recordEvent(tx, ctx, event(result)));
  return ok(result);
}
