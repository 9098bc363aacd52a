import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { postFeedback } from '../../../app/feedback/index.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security } from '../openapi.js';
import { ErrorResponse, Uuid } from '../schemas.js';

const FeedbackRequest = z
  .object({
    score: z.number().min(-1).max(1).openapi({ description: 'How good the answer was: −1 (bad) … 1 (good)' }),
    comment: z.string().max(2000).optional(),
  })
  .strict()
  .openapi('FeedbackRequest');

const FeedbackResult = z
  .object({
    turn_id: z.string(),
    user_id: z.string(),
    score: z.number(),
    comment: z.string().nullable(),
    revision: z.number().int(),
    total: z.number(),
    changed: z.boolean(),
    learning: z.object({ status: z.enum(['applied', 'unchanged', 'skipped']), seq: z.number().int().optional(), weights: z.record(z.string(), z.number()).optional() }),
  })
  .openapi('FeedbackResult');

/**
 * `POST /v1/turns/:turn_id/feedback` (SPEC §13.2): a participant's score of a turn's answer, stored and
 * applied as one learning step. Turns the caller cannot see are 404; observers 403.
 */
export function feedbackRoutes(ctx: Pick<AppContext, 'store' | 'brain' | 'ids' | 'clock' | 'logger'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/turns/{turn_id}/feedback',
      tags: ['learning'],
      security,
      summary: "Score a turn's answer (−1…1); the latest score per user wins and is learned from",
      request: { params: z.object({ turn_id: Uuid.openapi({ param: { name: 'turn_id', in: 'path' } }) }), body: jsonBody(FeedbackRequest) },
      responses: { 200: json(FeedbackResult, 'The stored feedback and its learning step'), ...errorResponses('Turn not found (also for other tenants\u2019 turns and conversations the caller is not part of)'), 403: json(ErrorResponse, 'Observers cannot give feedback') },
    }),
    async (c) => {
      const { score, comment } = c.req.valid('json');
      return c.json(unwrap(await postFeedback(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id, score, ...(comment !== undefined ? { comment } : {}) })), 200);
    },
  );
  return app;
}
