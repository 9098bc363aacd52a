import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Database } from '../../adapters/store/index.js';
import { replayTurnForCaller } from '../../app/replay/index.js';
import type { BrainRoutesEnv } from './brain-routes.js';
import { validationHook } from './errors.js';

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });
const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ content: { 'application/json': { schema } }, description });

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
export function createReplayRoutes({ database }: { database: Database }): OpenAPIHono<BrainRoutesEnv> {
  const app = new OpenAPIHono<BrainRoutesEnv>({ defaultHook: validationHook as never });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/turns/{turn_id}/replay',
      tags: ['replay'],
      security: [{ bearerAuth: [] }],
      summary: 'Replay a turn exactly, or counterfactually',
      request: {
        params: z.object({ turn_id: z.string().uuid().openapi({ param: { name: 'turn_id', in: 'path' } }) }),
        body: { content: { 'application/json': { schema: ReplayRequest } }, required: false },
      },
      responses: {
        200: json(ReplayReport, 'The replay verdict'),
        400: json(ErrorSchema, 'Invalid counterfactual'),
        401: json(ErrorSchema, 'Missing or invalid API key'),
        404: json(ErrorSchema, 'Turn not found (also for other tenants\u2019 turns)'),
        409: json(ErrorSchema, 'The turn is still running'),
      },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {};
      const report = await replayTurnForCaller({ database, caller: c.get('auth'), turnId: c.req.valid('param').turn_id, overrides: body?.with ?? {} });
      return c.json(report, 200);
    },
  );
  return app;
}
