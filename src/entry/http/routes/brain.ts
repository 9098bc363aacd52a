import { createRoute, z } from '@hono/zod-openapi';
import type { Brain, BrainScope } from '../../../ports/brain.js';
import { SomaError } from '../../../shared/errors.js';
import { CapsuleId, LearnedStateSchema, PublishTurnMetricsBody, PublishTurnMetricsResult, RecallBody, RecallResult, RememberBody, wireState } from '../brain-schemas.js';
import { brainUnavailable, errorResponses, json, jsonBody, routes, security, writeErrors } from '../openapi.js';

/** The declared fields of an open body (extra fields are accepted and ignored). */
function declared<T extends Record<string, unknown>>(body: T, schema: { shape: Record<string, unknown> }): T {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key in schema.shape)) as T;
}

const errors = { ...errorResponses('Capsule not found (also for other tenants\u2019 capsules)'), ...brainUnavailable, ...writeErrors };

/** The user a Soma server's service calls act for (`requireServiceOrApiKey`). */
const SERVICE_USER = 'soma-service';

/**
 * The memory scope of a call: an API key reads and writes its own user's memories (SPEC §13.1); only a
 * Soma server's service call may name the user it acts for (`user_id`).
 */
function memoryScope(auth: { tenantId: string; userId: string }, capsuleId: string, userId: string | undefined): BrainScope {
  const user = auth.userId === SERVICE_USER ? userId : auth.userId;
  return { tenantId: auth.tenantId, capsuleId, ...(user !== undefined ? { userId: user } : {}) };
}

/**
 * The brain's HTTP routes (SPEC §5, §8): `POST /v1/learning/publish_turn_metrics`,
 * `GET /v1/learning/state`, `POST /v1/memory/remember`, `POST /v1/memory/recall`. Mounted by
 * `soma serve` when the brain runs in process, and served by `soma brain serve`. Every call is scoped to
 * the caller's tenant (`c.get('auth')`).
 */
export function brainRoutes({ brain }: { brain: Brain }) {
  const app = routes();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/learning/publish_turn_metrics',
      tags: ['brain'],
      security,
      summary: 'One learning step for one iteration (atomic with the append to the capsule history)',
      request: { body: jsonBody(PublishTurnMetricsBody) },
      responses: { 200: json(PublishTurnMetricsResult), ...errors },
    }),
    async (c) => {
      const { tenantId } = c.get('auth');
      // The plan's body carries the client's view of the weights and neuromodulators: accepted, not trusted (the brain's state is the truth).
      const { weights: _weights, neuromodulators: _neuromodulators, convergence_score, ...body } = declared(c.req.valid('json'), PublishTurnMetricsBody);
      if (body.tenant !== undefined && body.tenant !== tenantId) throw new SomaError('CAPSULE_NOT_FOUND', `capsule ${body.capsule_id ?? 'of this turn'} not found`);
      const request = { ...body, tenant: tenantId, convergence_score: convergence_score ?? body.confidence ?? 0.5 };
      const response = await brain.publishTurnMetrics(request, { signal: c.req.raw.signal });
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
          ...(response.replayed !== undefined ? { replayed: response.replayed } : {}),
          ...(response.capsule_id !== undefined ? { capsule_id: response.capsule_id } : {}),
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
      request: { body: jsonBody(RememberBody) },
      responses: { 200: json(z.object({ status: z.literal('ok'), key: z.string() })), ...errors },
    }),
    async (c) => {
      const { capsule_id, user_id, ...memory } = declared(c.req.valid('json'), RememberBody);
      await brain.remember(memoryScope(c.get('auth'), capsule_id, user_id), memory);
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
      request: { body: jsonBody(RecallBody) },
      responses: { 200: json(RecallResult), ...errors },
    }),
    async (c) => {
      const { capsule_id, user_id, ...query } = declared(c.req.valid('json'), RecallBody);
      const results = await brain.recall(memoryScope(c.get('auth'), capsule_id, user_id), query);
      return c.json({ results }, 200);
    },
  );

  return app;
}
