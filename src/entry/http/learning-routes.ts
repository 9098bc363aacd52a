import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Database } from '../../adapters/store/index.js';
import { getLearningHistory, resetLearning, rollbackLearning } from '../../app/learning/index.js';
import type { Brain } from '../../ports/brain.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { validationHook } from './errors.js';
import type { BrainRoutesEnv } from './brain-routes.js';

const Vector = z.record(z.string(), z.number());
const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const IdParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });

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

const HistoryPage = z
  .object({
    weights: Vector,
    neuromodulators: Vector,
    reward_baseline: z.number(),
    learning_version: z.number().int(),
    history: z.array(HistoryEntry),
    next_cursor: z.string().nullable(),
  })
  .openapi('LearningHistory');

const Rewind = z
  .object({
    seq: z.number().int(),
    weights: Vector,
    neuromodulators: Vector,
    reward_baseline: z.number(),
    learning_version: z.number().int(),
    restored_from_seq: z.number().int().optional(),
  })
  .openapi('LearningRewind');

const RollbackBody = z
  .object({ to_turn_id: z.string().uuid().optional(), to_seq: z.number().int().min(1).optional() })
  .strict()
  .refine((body) => (body.to_turn_id === undefined) !== (body.to_seq === undefined), 'give exactly one of to_turn_id or to_seq')
  .openapi('LearningRollbackRequest');

const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(ErrorSchema, 'Invalid request'),
  401: json(ErrorSchema, 'Missing or invalid API key'),
  404: json(ErrorSchema, 'Capsule or learning point not found (also for other tenants\u2019 capsules)'),
};
const security = [{ bearerAuth: [] }];

/**
 * A capsule's learning history, rollback and reset (SPEC §5 REVERSE-001, §8):
 * `GET /v1/capsules/:id/learning`, `POST /v1/capsules/:id/learning/rollback`, `POST /v1/capsules/:id/learning/reset`.
 * The history lives in the database the brain writes to; `brain` is not needed for it (accepted so
 * the composition root can pass its context unchanged).
 */
export function createLearningRoutes({ database, clock = systemClock }: { database: Database; brain?: Brain; clock?: Clock }): OpenAPIHono<BrainRoutesEnv> {
  const app = new OpenAPIHono<BrainRoutesEnv>({ defaultHook: validationHook as never });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/capsules/{id}/learning',
      tags: ['learning'],
      security,
      summary: "A capsule's learned state and its history (oldest first)",
      request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().regex(/^\d+$/).optional() }) },
      responses: { 200: json(HistoryPage), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = await getLearningHistory({ database, tenantId: c.get('auth').tenantId, capsuleId: c.req.valid('param').id, limit, ...(cursor ? { cursor } : {}) });
      return c.json(page, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/capsules/{id}/learning/rollback',
      tags: ['learning'],
      security,
      summary: 'Restore the learned state that held before a history row or a turn',
      request: { params: IdParam, body: { content: { 'application/json': { schema: RollbackBody } }, required: true } },
      responses: { 200: json(Rewind), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const result = await rollbackLearning({
        database,
        clock,
        tenantId: c.get('auth').tenantId,
        capsuleId: c.req.valid('param').id,
        ...(body.to_seq !== undefined ? { toSeq: body.to_seq } : {}),
        ...(body.to_turn_id !== undefined ? { toTurnId: body.to_turn_id } : {}),
      });
      return c.json(result, 200);
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
      responses: { 200: json(Rewind), ...errors },
    }),
    async (c) => c.json(await resetLearning({ database, clock, tenantId: c.get('auth').tenantId, capsuleId: c.req.valid('param').id }), 200),
  );

  return app;
}
