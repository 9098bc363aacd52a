import { z } from '@hono/zod-openapi';
import type { LearnedState } from '../../ports/learning.js';

const unit = z.number().min(0).max(1);
const nonNegative = z.number().min(0);
const seed = z.number().int().min(0).max(2 ** 53 - 1);
export const CapsuleId = z.string().uuid();

export const WeightsSchema = z
  .object({ alpha: z.number(), beta: z.number(), gamma: z.number(), tau: z.number(), lambda: z.number(), mu: z.number(), nu: z.number() })
  .openapi('LearnedWeights');
export const NeuromodulatorsSchema = z
  .object({ dopamine: z.number(), serotonin: z.number(), norepinephrine: z.number(), acetylcholine: z.number() })
  .openapi('NeuromodulatorLevels');
export const LearnedStateSchema = z.object({ weights: WeightsSchema, neuromodulators: NeuromodulatorsSchema, reward_baseline: z.number() }).openapi('LearnedState');

/** A learned state as the brain routes send it (snake_case). */
export const wireState = (state: LearnedState) => ({ weights: state.weights, neuromodulators: state.neuromodulators, reward_baseline: state.rewardBaseline });

/** The plan's §3.2 request plus `capsule_id`; `tenant` is the caller's (a different one is refused). */
export const PublishTurnMetricsBody = z
  .object({
    capsule_id: CapsuleId,
    tenant: z.string().optional(),
    persona: z.string().max(200).optional(),
    turn_id: z.string().uuid(),
    iteration_number: z.number().int().min(0).max(1000),
    tools_used: z.array(z.string().max(200)).max(100),
    confidence: unit.nullable(),
    convergence_score: unit,
    tool_success_rate: unit,
    latency_ms: nonNegative,
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    novelty: unit,
    seed: seed.optional(),
    weights: WeightsSchema.optional(),
    neuromodulators: NeuromodulatorsSchema.optional(),
  })
  .openapi('PublishTurnMetricsRequest');

export const PublishTurnMetricsResult = z
  .object({
    status: z.enum(['success', 'skipped']),
    weights: WeightsSchema,
    neuromodulators: NeuromodulatorsSchema,
    seq: z.number().int().optional(),
    before: LearnedStateSchema.optional(),
    after: LearnedStateSchema.optional(),
    reward: z.number().optional(),
    advantage: z.number().optional(),
    learned: z.boolean().optional(),
  })
  .openapi('PublishTurnMetricsResponse');

export const RememberBody = z
  .object({
    capsule_id: CapsuleId,
    key: z.string().min(1).max(500),
    content: z.string().min(1).max(100_000),
    importance: unit.optional(),
    novelty: unit.optional(),
    tags: z.array(z.string().max(100)).max(50).optional(),
  })
  .openapi('RememberRequest');

export const RecallBody = z
  .object({ capsule_id: CapsuleId, query: z.string().max(10_000), top_k: z.number().int().min(1).max(100).default(5), seed: seed.optional(), weights: WeightsSchema.optional() })
  .openapi('RecallRequest');

export const RecallResult = z
  .object({ results: z.array(z.object({ key: z.string(), content: z.string(), score: z.number(), raw: z.number().optional() })) })
  .openapi('RecallResponse');

// ---- learning history, rollback, reset ----------------------------------------------------------

const Vector = z.record(z.string(), z.number());

const HistoryEntry = z
  .object({
    seq: z.number().int(),
    kind: z.enum(['learn', 'rollback', 'reset']),
    turn_id: z.string().nullable(),
    iteration_number: z.number().int().nullable(),
    weights_before: Vector,
    weights_after: Vector,
    neuromodulators_before: Vector,
    neuromodulators_after: Vector,
    reward_baseline_before: z.number(),
    reward_baseline_after: z.number(),
    reward: z.number().nullable(),
    advantage: z.number().nullable(),
    created_at: z.string(),
  })
  .openapi('LearningHistoryEntry');

export const LearningHistory = z
  .object({
    weights: Vector,
    neuromodulators: Vector,
    reward_baseline: z.number(),
    learning_version: z.number().int(),
    history: z.array(HistoryEntry),
    next_cursor: z.string().nullable(),
  })
  .openapi('LearningHistory');

export const LearningRewind = z
  .object({
    seq: z.number().int(),
    weights: Vector,
    neuromodulators: Vector,
    reward_baseline: z.number(),
    learning_version: z.number().int(),
    restored_from_seq: z.number().int().optional(),
  })
  .openapi('LearningRewind');

const rollbackPoint = { to_turn_id: z.string().uuid().optional(), to_seq: z.number().int().min(1).optional() };
const onePoint = (body: { to_turn_id?: string; to_seq?: number }) => (body.to_turn_id === undefined) !== (body.to_seq === undefined);

export const RollbackBody = z.object(rollbackPoint).strict().refine(onePoint, 'give exactly one of to_turn_id or to_seq').openapi('LearningRollbackRequest');

/** The brain protocol's rollback: the point plus the capsule. */
export const BrainRollbackBody = z
  .object({ capsule_id: CapsuleId, ...rollbackPoint })
  .strict()
  .refine(onePoint, 'give exactly one of to_turn_id or to_seq')
  .openapi('BrainRollbackRequest');

/** Cursor of the learning history: the `seq` of the last row seen. */
export const HistoryCursor = z.string().regex(/^\d+$/);
