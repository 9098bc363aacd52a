import { createRoute, z } from '@hono/zod-openapi';
import type { Brain } from '../../../ports/brain.js';
import { BrainRollbackBody, CapsuleId, HistoryCursor, LearningHistory, LearningRewind } from '../brain-schemas.js';
import { unwrap } from '../http-errors.js';
import { brainUnavailable, errorResponses, json, jsonBody, routes, security } from '../openapi.js';

const errors = { ...errorResponses('Capsule or learning point not found (also for other tenants\u2019 capsules)'), ...brainUnavailable };

/**
 * The brain protocol's learning history, rollback and reset (`soma brain serve`; the HTTP brain calls
 * them): `GET /v1/learning/history`, `POST /v1/learning/rollback`, `POST /v1/learning/reset`. They
 * write no event: the calling Soma server records `learning.rolled_back` / `learning.reset` in its own
 * outbox. A Soma server with the brain in process does not mount them (its
 * `/v1/capsules/:id/learning/*` routes do all of it).
 */
export function brainLearningRoutes({ brain }: { brain: Brain }) {
  const app = routes();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/learning/history',
      tags: ['brain'],
      security,
      summary: "A capsule's learned state and the history rows after `after` (oldest first)",
      request: { query: z.object({ capsule_id: CapsuleId, limit: z.coerce.number().int().min(1).max(500).default(50), after: HistoryCursor.default('0') }) },
      responses: { 200: json(LearningHistory), ...errors },
    }),
    async (c) => {
      const { capsule_id, limit, after } = c.req.valid('query');
      return c.json(unwrap(await brain.learningHistory({ tenantId: c.get('auth').tenantId, capsuleId: capsule_id }, { limit, after: Number(after) })), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/learning/rollback',
      tags: ['brain'],
      security,
      summary: 'Restore the learned state that held before a history row or a turn',
      request: { body: jsonBody(BrainRollbackBody) },
      responses: { 200: json(LearningRewind), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { capsule_id } = body;
      const point = 'to_seq' in body ? { seq: body.to_seq } : { turnId: body.to_turn_id };
      return c.json(unwrap(await brain.rollbackLearning({ tenantId: c.get('auth').tenantId, capsuleId: capsule_id }, point)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/learning/reset',
      tags: ['brain'],
      security,
      summary: "Restore the defaults of the capsule's learning config",
      request: { body: jsonBody(z.object({ capsule_id: CapsuleId }).strict().openapi('BrainResetRequest')) },
      responses: { 200: json(LearningRewind), ...errors },
    }),
    async (c) => c.json(unwrap(await brain.resetLearning({ tenantId: c.get('auth').tenantId, capsuleId: c.req.valid('json').capsule_id })), 200),
  );

  return app;
}
