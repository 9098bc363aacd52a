import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { replayTurnForCaller } from '../../../app/replay/index.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, routes, security, writeErrors } from '../openapi.js';
import { learningConfigInput } from '../../../app/capsules/index.js';
import { int } from '../schema-kit.js';

/** The learning constants a counterfactual may set (the scalar ones of `learning_config`). */
const scalarConstants = {
  update_rule: true,
  exploration: true,
  prior_strength: true,
  lr_base: true,
  baseline_rate: true,
  initial_reward_baseline: true,
  learn_threshold: true,
  salience_novelty_weight: true,
  salience_advantage_weight: true,
  dopamine_factor_min: true,
  dopamine_factor_max: true,
  tau_decay: true,
  recency_half_life_s: true,
  tau_drives_temperature: true,
} as const;
import { ErrorResponse, Uuid } from '../schemas.js';

const ReplayRequest = z
  .object({
    with: z
      .object({
        threshold: z.number().min(0).max(1).optional(),
        convergence_threshold: z.number().min(0).max(1).optional(),
        max_iterations: int(1, 10).optional(),
        min_iterations: int(1, 10).optional(),
        token_budget: int(1, 10_000_000).optional(),
        ...learningConfigInput.pick(scalarConstants).shape,
      })
      .strict()
      .optional()
      .openapi({ description: 'Counterfactual settings: threshold, max_iterations, min_iterations, token_budget, or a learning constant (e.g. lr_base). Omitted = an exact replay.' } as never),
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
      responses: { 200: json(ReplayReport, 'The replay verdict'), ...errorResponses('Turn not found (also for other tenants\u2019 turns)'), 409: json(ErrorResponse, 'The turn is still running'), ...writeErrors, 422: json(ErrorResponse, 'A counterfactual setting that does not exist or takes another type (INVALID_COMBINATION)') },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {};
      return c.json(unwrap(await replayTurnForCaller(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id, overrides: body?.with ?? {} })), 200);
    },
  );
  return app;
}
