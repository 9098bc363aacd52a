import { and, eq } from 'drizzle-orm';
import { feedbackStep, learningStep, type LearningConfig } from '../../../core/learning/index.js';
import type { PublishOptions, PublishTurnMetricsRequest, PublishTurnMetricsResponse } from '../../../ports/brain.js';
import type { Clock } from '../../../ports/clock.js';
import type { LearnedState, LearningSource } from '../../../ports/learning.js';
import { SomaError } from '../../../shared/errors.js';
import { stableSeed } from '../../../shared/hash.js';
import { tables } from '../../store/index.js';
import { appendLearningUpdate, capsuleNotFound, findStep, isUuid, latestFeedbackStep, lockCapsuleState, rowState, stateOf, type CachedCapsuleState, type LedgerTx } from './learning-ledger.js';

/**
 * One step of `publish_turn_metrics` inside the caller's transaction: resolves the capsule, locks it,
 * returns the stored result when the (turn, iteration, source) step is already in its history (a
 * retry appends nothing), else runs the pure step — an iteration's (`learningStep`) or a feedback's
 * (`feedbackStep`) — appends its history row and moves the capsule.
 */
export async function publishStep(
  tx: LedgerTx,
  {
    request,
    configOf,
    clock,
    options,
    learned,
  }: {
    request: PublishTurnMetricsRequest;
    configOf: (raw: unknown) => LearningConfig;
    clock: Clock;
    options: PublishOptions;
    /** Told the capsule's state after the appended step (for the brain's cache; valid once the transaction commits). */
    learned?: (state: CachedCapsuleState) => void;
  },
): Promise<PublishTurnMetricsResponse> {
  const capsuleId = request.capsule_id ?? (await capsuleOfRequest(tx, request));
  const locked = await lockCapsuleState(tx, { tenantId: request.tenant, capsuleId });
  if (!locked) throw capsuleNotFound(capsuleId);
  const source: LearningSource = request.source ?? 'iteration';
  const stored = await findStep(tx, { capsuleId, turnId: request.turn_id, iterationNumber: request.iteration_number, source });
  if (stored) {
    const after = stateOf({ learnedWeights: stored.weightsAfter, neuromodulatorState: stored.neuromodulatorsAfter, rewardBaseline: stored.baselineAfter, learnerEvidence: stored.evidenceAfter });
    return {
      status: 'success',
      weights: after.weights,
      neuromodulators: after.neuromodulators,
      seq: stored.seq,
      before: rowState(stored),
      after,
      ...(stored.reward !== null ? { reward: stored.reward } : {}),
      ...(stored.advantage !== null ? { advantage: stored.advantage } : {}),
      learned: (stored.inputs as { learned?: boolean }).learned ?? true,
      replayed: true,
      capsule_id: capsuleId,
    };
  }
  const config = configOf(locked.learningConfig);
  const seed = request.seed ?? stableSeed(request.turn_id);
  const step = source === 'feedback' ? await feedbackOf(tx, { capsuleId, request, seed, state: locked.state, config }) : iterationOf({ request, seed, state: locked.state, config });
  const seq = await appendLearningUpdate(tx, locked, {
    kind: 'learn',
    source,
    turnId: request.turn_id,
    iterationNumber: request.iteration_number,
    after: step.after,
    reward: step.reward,
    advantage: step.advantage,
    inputs: { ...step.inputs, learning_config: locked.learningConfig as Record<string, unknown>, update_rule: config.update_rule },
    createdAt: new Date(clock.now()),
  });
  learned?.({ capsuleId, tenantId: locked.tenantId, version: locked.version, learningVersion: seq, learningConfig: locked.learningConfig, state: step.after });
  const response: PublishTurnMetricsResponse = {
    status: 'success',
    weights: step.after.weights,
    neuromodulators: step.after.neuromodulators,
    seq,
    before: locked.state,
    after: step.after,
    ...(step.reward !== null ? { reward: step.reward } : {}),
    advantage: step.advantage,
    learned: step.learned,
    capsule_id: capsuleId,
  };
  if (options.persist) {
    await options.persist(response, tx);
    response.persisted = true;
  }
  return response;
}

export interface StepOutcome {
  after: LearnedState;
  reward: number | null;
  advantage: number;
  learned: boolean;
  inputs: Record<string, unknown>;
}

export function iterationOf({ request, seed, state, config }: { request: PublishTurnMetricsRequest; seed: number; state: LearnedState; config: LearningConfig }): StepOutcome {
  const metrics = {
    confidence: request.confidence,
    convergence_score: request.convergence_score,
    tool_success_rate: request.tool_success_rate,
    latency_ms: request.latency_ms,
    prompt_tokens: request.prompt_tokens,
    completion_tokens: request.completion_tokens,
    novelty: request.novelty,
    tools_used: request.tools_used,
    seed,
    ...(request.lane_sensitive !== undefined ? { lane_sensitive: request.lane_sensitive } : {}),
    ...(request.answer_score !== undefined && request.answer_score !== null ? { answer_score: request.answer_score } : {}),
  };
  const creditExploration = request.iteration_number === 0;
  const result = learningStep({ state, metrics, config, creditExploration });
  return {
    after: result.state,
    reward: result.reward,
    advantage: result.advantage,
    learned: result.learned,
    inputs: {
      metrics,
      credit_exploration: creditExploration,
      reward_terms: result.rewardTerms,
      salience: result.salience,
      learned: result.learned,
      credited: result.credited,
      effective_learning_rate: result.effectiveLearningRate,
      exploration: result.exploration,
    },
  };
}

async function feedbackOf(
  tx: LedgerTx,
  { capsuleId, request, seed, state, config }: { capsuleId: string; request: PublishTurnMetricsRequest; seed: number; state: LearnedState; config: LearningConfig },
): Promise<StepOutcome> {
  const total = request.feedback_total ?? 0;
  const previous = await latestFeedbackStep(tx, { capsuleId, turnId: request.turn_id });
  const credited = Number((previous?.inputs as { feedback_total?: number } | undefined)?.feedback_total ?? 0);
  const result = feedbackStep({ state, total, credited, seed, laneSensitive: request.lane_sensitive, config });
  return {
    after: result.state,
    reward: null,
    advantage: result.advantage,
    learned: result.advantage !== 0,
    inputs: {
      feedback_total: total,
      credited_before: credited,
      seed,
      lane_sensitive: request.lane_sensitive ?? null,
      learned: result.advantage !== 0,
      effective_learning_rate: result.effectiveLearningRate,
      exploration: result.exploration,
    },
  };
}

/** The capsule of a request without `capsule_id` (the plan's body): the tenant's turn `turn_id`, else the capsule `persona` names. */
async function capsuleOfRequest(tx: LedgerTx, request: PublishTurnMetricsRequest): Promise<string> {
  if (isUuid(request.tenant)) {
    const [turn] = await tx
      .select({ capsuleId: tables.turns.capsuleId })
      .from(tables.turns)
      .where(and(eq(tables.turns.id, request.turn_id), eq(tables.turns.tenantId, request.tenant)));
    if (turn) return turn.capsuleId;
    if (request.persona !== undefined && isUuid(request.persona)) return request.persona;
  }
  throw new SomaError('CAPSULE_NOT_FOUND', `no capsule of this tenant for turn ${request.turn_id}: give capsule_id (or persona)`);
}
