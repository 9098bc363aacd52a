import { z } from '@hono/zod-openapi';
import type { LearnedState } from '../../ports/learning.js';
import { int, openKeys, openObject, record, text } from './schema-kit.js';

const unit = z.number().min(0).max(1);
const nonNegative = z.number().min(0);
const seed = int(0);
export const CapsuleId = z.string().uuid();

/** Weights a caller passes in (recall, publish): finite and bounded, τ above 0 — so every score is a number. */
const givenWeight = z.number().min(0).max(100);
export const GivenWeights = z
  .object({ alpha: givenWeight, beta: givenWeight, gamma: givenWeight, tau: z.number().min(0.01).max(100), lambda: givenWeight, mu: givenWeight, nu: givenWeight })
  .strict()
  .openapi('GivenWeights', { description: 'Each weight in [0, 100]; τ in [0.01, 100] (it divides the recall scores).' });

export const WeightsSchema = z
  .object({ alpha: z.number(), beta: z.number(), gamma: z.number(), tau: z.number(), lambda: z.number(), mu: z.number(), nu: z.number() })
  .openapi('LearnedWeights');
export const NeuromodulatorsSchema = z
  .object({ dopamine: z.number(), serotonin: z.number(), norepinephrine: z.number(), acetylcholine: z.number() })
  .openapi('NeuromodulatorLevels');
const EvidenceSchema = z
  .record(z.string(), z.object({ n: z.number(), sum: z.number(), sum_sq: z.number(), step: z.number(), last: z.number() }))
  .openapi('LearnerEvidence', { description: "The perturbation rule's evidence per weight since its last move" });
export const LearnedStateSchema = z
  .object({ weights: WeightsSchema, neuromodulators: NeuromodulatorsSchema, reward_baseline: z.number(), evidence: EvidenceSchema.optional() })
  .openapi('LearnedState');

/** A learned state as the brain routes send it (snake_case). */
export const wireState = (state: LearnedState) => ({
  weights: state.weights,
  neuromodulators: state.neuromodulators,
  reward_baseline: state.rewardBaseline,
  ...(state.evidence ? { evidence: state.evidence } : {}),
});

const weightName = z.enum(['alpha', 'beta', 'gamma', 'tau', 'lambda', 'mu', 'nu']);

/**
 * The plan's §3.2 request (`turn_id, iteration_number, tools_used, confidence, latency_ms, weights,
 * neuromodulators, tenant, persona`) accepted exactly; everything beyond it is optional with these
 * defaults: `capsule_id` — the capsule of the tenant's turn `turn_id`, else the capsule `persona` names;
 * `convergence_score` — the confidence (0.5 when null); `tool_success_rate` 1; `prompt_tokens`,
 * `completion_tokens` 0; `novelty` 0.5; `seed` — the stable hash of `turn_id`; `source` `iteration`.
 * `weights` and `neuromodulators` are the caller's view, informational: the brain learns from the
 * capsule's own state. `tenant` must be the caller's tenant (another one is 404).
 */
export const PublishTurnMetricsBody = openObject({
    capsule_id: CapsuleId.optional(),
    tenant: text(200).optional(),
    persona: text(200).optional(),
    turn_id: z.string().uuid(),
    iteration_number: int(0, 1000),
    tools_used: z.array(text(200)).max(100),
    confidence: unit.nullable(),
    latency_ms: nonNegative,
    convergence_score: unit.optional(),
    tool_success_rate: unit.default(1),
    prompt_tokens: int(0).default(0),
    completion_tokens: int(0).default(0),
    novelty: unit.default(0.5),
    seed: seed.optional(),
    // The caller's view (informational): any names, bounded values.
    weights: record(z.number().min(-1e9).max(1e9)).optional(),
    neuromodulators: record(z.number().min(-1e9).max(1e9)).optional(),
    source: z.enum(['iteration', 'feedback']).default('iteration'),
    lane_sensitive: z.array(weightName).max(7).optional(),
    answer_score: unit.nullable().optional(),
    feedback_total: z.number().min(-1_000_000).max(1_000_000).optional(),
  })
  .openapi('PublishTurnMetricsRequest', openKeys);

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
    replayed: z.boolean().optional().openapi({ description: 'The step was already in the history (a retry): its stored result, nothing appended' }),
    capsule_id: z.string().optional(),
  })
  .openapi('PublishTurnMetricsResponse');

/** `user_id` on memory calls: honoured from a Soma server's service calls only; an API key acts for its own user. */
const userField = { user_id: text(200).optional() };

export const RememberBody = openObject({
    capsule_id: CapsuleId,
    ...userField,
    key: text(500, 1),
    content: text(100_000, 1),
    importance: unit.optional(),
    novelty: unit.optional(),
    tags: z.array(text(100)).max(50).optional(),
  })
  .openapi('RememberRequest', openKeys);

export const RecallBody = openObject({ capsule_id: CapsuleId, ...userField, query: text(10_000), top_k: int(1, 100).default(5), seed: seed.optional(), weights: GivenWeights.optional() })
  .openapi('RecallRequest', openKeys);

export const RecallResult = z
  .object({
    results: z.array(
      z.object({
        key: z.string(),
        content: z.string(),
        score: z.number(),
        raw: z.number().optional(),
        similarity: z.number().optional(),
        importance: z.number().optional(),
        recency: z.number().optional(),
      }),
    ),
  })
  .openapi('RecallResponse');

// ---- learning history, rollback, reset ----------------------------------------------------------

const Vector = z.record(z.string(), z.number());

const HistoryEntry = z
  .object({
    seq: z.number().int(),
    kind: z.enum(['learn', 'rollback', 'reset']),
    source: z.enum(['iteration', 'feedback']).nullable().openapi({ description: 'What a learn row learned from; null for rollback and reset' }),
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

/** A rollback point: exactly one of `to_seq` or `to_turn_id` (two strict objects, so the schema says so). */
export const RollbackBody = z
  .union([z.object({ to_seq: int(1) }).strict(), z.object({ to_turn_id: z.string().uuid() }).strict()])
  .openapi('LearningRollbackRequest', { description: 'Exactly one of to_seq or to_turn_id.' });

/** The brain protocol's rollback: the point plus the capsule. */
export const BrainRollbackBody = z
  .union([z.object({ capsule_id: CapsuleId, to_seq: int(1) }).strict(), z.object({ capsule_id: CapsuleId, to_turn_id: z.string().uuid() }).strict()])
  .openapi('BrainRollbackRequest', { description: 'The capsule and exactly one of to_seq or to_turn_id.' });

/** Cursor of the learning history: the `seq` of the last row seen. */
export const HistoryCursor = z.string().regex(/^[0-9]{1,15}$/);
