import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { getLearningHistory, resetLearning, rollbackLearning } from '../../../app/learning/index.js';
import { HistoryCursor, LearningHistory, LearningRewind, RollbackBody } from '../brain-schemas.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security, writeErrors } from '../openapi.js';
import { IdParam } from '../schemas.js';

const errors = errorResponses('Capsule or learning point not found (also for other tenants\u2019 capsules)');

/**
 * A capsule's learning history, rollback and reset (SPEC §5 REVERSE-001, §8), through the brain port
 * (in process or remote): `GET /v1/capsules/:id/learning`, `POST /v1/capsules/:id/learning/rollback`,
 * `POST /v1/capsules/:id/learning/reset`.
 */
export function learningRoutes(ctx: Pick<AppContext, 'brain' | 'store' | 'ids' | 'clock'>) {
  const app = routes();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/capsules/{id}/learning',
      tags: ['learning'],
      security,
      summary: "A capsule's learned state and its history (oldest first)",
      request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), cursor: HistoryCursor.optional() }) },
      responses: { 200: json(LearningHistory), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = await getLearningHistory(ctx, { tenantId: c.get('auth').tenantId, capsuleId: c.req.valid('param').id, limit, ...(cursor ? { cursor } : {}) });
      return c.json(unwrap(page), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/capsules/{id}/learning/rollback',
      tags: ['learning'],
      security,
      summary: 'Restore the learned state that held before a history row or a turn',
      request: { params: IdParam, body: jsonBody(RollbackBody) },
      responses: { 200: json(LearningRewind), ...errors, ...writeErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const result = await rollbackLearning(ctx, {
        tenantId: c.get('auth').tenantId,
        capsuleId: c.req.valid('param').id,
        ...('to_seq' in body ? { toSeq: body.to_seq } : { toTurnId: body.to_turn_id }),
      });
      return c.json(unwrap(result), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/capsules/{id}/learning/reset',
      tags: ['learning'],
      security,
      summary: "Restore the defaults of the capsule's learning config",
      request: { params: IdParam },
      responses: { 200: json(LearningRewind), ...errors },
    }),
    async (c) => c.json(unwrap(await resetLearning(ctx, { tenantId: c.get('auth').tenantId, capsuleId: c.req.valid('param').id })), 200),
  );

  return app;
}
