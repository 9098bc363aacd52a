import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { replayTurnForCaller } from '../../../app/replay/index.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, routes, security } from '../openapi.js';
import { ErrorResponse, Uuid } from '../schemas.js';

const ReplayRequest = z
  .object({
    with: z
      .record(z.string().min(1).max(64).regex(/^[a-z_]+$/, 'a setting or learning constant name such as threshold'), z.union([z.number(), z.string().max(200), z.boolean()]))
      .optional()
      .openapi({ description: 'Counterfactual settings: threshold, max_iterations, min_iterations, token_budget, or a learning constant (e.g. lr_base). Omitted = an exact replay.' }),
  })
  .strict()
  .openapi('ReplayRequest');

const Vector = z.record(z.string(), z.number());
const ReplayReport = z
  .object({
    turn_id: z.string(),
    identical: z.boolean(),
    counterfactual: z.boolean(),
    recorded: z.object({ iterations: z.number().int(), exit_reason: z.string().nullable(), answer_iteration: z.number().int().nullable() }),
    replayed: z.object({ iterations: z.number().int(), exit_reason: z.string(), answer_iteration: z.number().int().nullable(), final_weights: Vector.nullable() }),
    differences: z.array(z.object({ iteration: z.union([z.number().int(), z.literal('turn')]), field: z.string(), recorded: z.unknown(), replayed: z.unknown() })),
    interleaved: z.array(z.number().int()),
  })
  .openapi('ReplayReport');

/**
 * `POST /v1/turns/:turn_id/replay` — the replay of `soma replay` over HTTP: re-runs the recorded turn
 * and reports whether every iteration came out identical, or — with `with` — what a counterfactual
 * run would change. Never writes. Turns of other tenants, or of conversations the caller is not part of, are 404.
 */
export function replayRoutes(ctx: Pick<AppContext, 'store' | 'clock' | 'countTokens'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/turns/{turn_id}/replay',
      tags: ['replay'],
      security,
      summary: 'Replay a turn exactly, or counterfactually',
      request: {
        params: z.object({ turn_id: Uuid.openapi({ param: { name: 'turn_id', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: ReplayRequest } }, required: false },
      },
      responses: { 200: json(ReplayReport, 'The replay verdict'), ...errorResponses('Turn not found (also for other tenants\u2019 turns)'), 409: json(ErrorResponse, 'The turn is still running') },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {};
      return c.json(unwrap(await replayTurnForCaller(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id, overrides: body?.with ?? {} })), 200);
    },
  );
  return app;
}
