import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Brain } from '../../ports/brain.js';
import type { LearnedState } from '../../ports/learning.js';
import { SomaError } from '../../shared/errors.js';
import { validationHook } from './errors.js';

/** Variables the main app's auth middleware sets before these routes run. */
export type BrainRoutesEnv = { Variables: { auth: { tenantId: string; userId: string } } };

const unit = z.number().min(0).max(1);
const nonNegative = z.number().min(0);
const WeightsSchema = z
  .object({ alpha: z.number(), beta: z.number(), gamma: z.number(), tau: z.number(), lambda: z.number(), mu: z.number(), nu: z.number() })
  .openapi('LearnedWeights');
const NeuromodulatorsSchema = z
  .object({ dopamine: z.number(), serotonin: z.number(), norepinephrine: z.number(), acetylcholine: z.number() })
  .openapi('NeuromodulatorLevels');
const LearnedStateSchema = z.object({ weights: WeightsSchema, neuromodulators: NeuromodulatorsSchema, reward_baseline: z.number() }).openapi('LearnedState');
const CapsuleId = z.string().uuid();
const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

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
    seed: z.number().int().min(0).max(2 ** 53 - 1).optional(),
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

const RememberBody = z
  .object({
    capsule_id: CapsuleId,
    key: z.string().min(1).max(500),
    content: z.string().min(1).max(100_000),
    importance: unit.optional(),
    novelty: unit.optional(),
    tags: z.array(z.string().max(100)).max(50).optional(),
  })
  .openapi('RememberRequest');

const RecallBody = z
  .object({
    capsule_id: CapsuleId,
    query: z.string().max(10_000),
    top_k: z.number().int().min(1).max(100).default(5),
    seed: z.number().int().min(0).max(2 ** 53 - 1).optional(),
    weights: WeightsSchema.optional(),
  })
  .openapi('RecallRequest');

const RecallResult = z
  .object({ results: z.array(z.object({ key: z.string(), content: z.string(), score: z.number(), raw: z.number().optional() })) })
  .openapi('RecallResponse');

const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(ErrorSchema, 'Invalid request'),
  401: json(ErrorSchema, 'Missing or invalid API key'),
  404: json(ErrorSchema, 'Capsule not found (also for other tenants\u2019 capsules)'),
  503: json(ErrorSchema, 'Brain unavailable'),
};
const security = [{ bearerAuth: [] }];

const wireState = (state: LearnedState) => ({ weights: state.weights, neuromodulators: state.neuromodulators, reward_baseline: state.rewardBaseline });

/**
 * The brain's HTTP routes (SPEC §5, §8): `POST /v1/learning/publish_turn_metrics`,
 * `GET /v1/learning/state`, `POST /v1/memory/remember`, `POST /v1/memory/recall`. Mounted by
 * `soma serve` when the brain runs in process, and served alone by `soma brain serve`. Every call is
 * scoped to the caller's tenant (`c.get('auth')`).
 */
export function createBrainRoutes({ brain }: { brain: Brain }): OpenAPIHono<BrainRoutesEnv> {
  const app = new OpenAPIHono<BrainRoutesEnv>({ defaultHook: validationHook as never });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/learning/publish_turn_metrics',
      tags: ['brain'],
      security,
      summary: 'One learning step for one iteration (atomic with the append to the capsule history)',
      request: { body: { content: { 'application/json': { schema: PublishTurnMetricsBody } }, required: true } },
      responses: { 200: json(PublishTurnMetricsResult), ...errors },
    }),
    async (c) => {
      const { tenantId } = c.get('auth');
      const body = c.req.valid('json');
      if (body.tenant !== undefined && body.tenant !== tenantId) throw new SomaError('CAPSULE_NOT_FOUND', `capsule ${body.capsule_id} not found`);
      const response = await brain.publishTurnMetrics({ ...body, tenant: tenantId }, { signal: c.req.raw.signal });
      return c.json(
        {
          status: response.status,
          weights: response.weights,
          neuromodulators: response.neuromodulators,
          ...(response.seq !== undefined ? { seq: response.seq } : {}),
          ...(response.before ? { before: wireState(response.before) } : {}),
          ...(response.after ? { after: wireState(response.after) } : {}),
          ...(response.reward !== undefined ? { reward: response.reward } : {}),
          ...(response.advantage !== undefined ? { advantage: response.advantage } : {}),
          ...(response.learned !== undefined ? { learned: response.learned } : {}),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/learning/state',
      tags: ['brain'],
      security,
      summary: "A capsule's current learned state",
      request: { query: z.object({ capsule_id: CapsuleId }) },
      responses: { 200: json(LearnedStateSchema.extend({ learning_version: z.number().int() })), ...errors },
    }),
    async (c) => {
      const state = await brain.getState({ tenantId: c.get('auth').tenantId, capsuleId: c.req.valid('query').capsule_id });
      return c.json({ ...wireState(state), learning_version: state.learning_version }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/memory/remember',
      tags: ['brain'],
      security,
      summary: 'Store (or restate, by key) a memory of a capsule',
      request: { body: { content: { 'application/json': { schema: RememberBody } }, required: true } },
      responses: { 200: json(z.object({ status: z.literal('ok'), key: z.string() })), ...errors },
    }),
    async (c) => {
      const { capsule_id, ...memory } = c.req.valid('json');
      await brain.remember({ tenantId: c.get('auth').tenantId, capsuleId: capsule_id }, memory);
      return c.json({ status: 'ok' as const, key: memory.key }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/memory/recall',
      tags: ['brain'],
      security,
      summary: "Recall a capsule's memories, scored with its learned α β γ τ",
      request: { body: { content: { 'application/json': { schema: RecallBody } }, required: true } },
      responses: { 200: json(RecallResult), ...errors },
    }),
    async (c) => {
      const { capsule_id, ...query } = c.req.valid('json');
      const results = await brain.recall({ tenantId: c.get('auth').tenantId, capsuleId: capsule_id }, query);
      return c.json({ results }, 200);
    },
  );

  return app;
}
