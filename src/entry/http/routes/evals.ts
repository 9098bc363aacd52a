import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { evalRunView, getEval, listEvals, startEvalFromRequest, startEvalInBackground } from '../../../app/evals/index.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security } from '../openapi.js';
import { ErrorResponse, IdParam } from '../schemas.js';
import { KeysetCursor } from '../schema-kit.js';
import { EvalCreate, EvalRun, EvalRunWithResults } from '../eval-schemas.js';

const errors = errorResponses();

/** `/v1/evals`: eval runs of the tenant (SPEC §13.3); `POST` starts one in the background. */
export function evalRoutes(ctx: AppContext) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/evals',
      tags: ['evals'],
      security,
      summary: 'Start (or resume) an eval run in the background',
      request: { body: jsonBody(EvalCreate) },
      responses: { 202: json(EvalRun, 'The run, started or resumed'), 409: json(ErrorResponse, 'Another eval of the tenant is running'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const caller = c.get('auth');
      const started = unwrap(await startEvalFromRequest(ctx, { caller, name: body.name, setup: body.setup, items: body.items, configurations: body.compare, fresh: body.fresh }));
      startEvalInBackground(ctx, { caller, runId: started.run.id });
      return c.json(evalRunView(started.run), 202);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals',
      tags: ['evals'],
      security,
      summary: 'The tenant’s eval runs, newest first',
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: KeysetCursor.optional() }) },
      responses: { 200: json(z.object({ evals: z.array(EvalRun), next_cursor: z.string().nullable() }), 'A page of eval runs'), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(unwrap(await listEvals(ctx, { caller: c.get('auth'), limit, ...(cursor ? { cursor } : {}) })), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/evals/{id}',
      tags: ['evals'],
      security,
      summary: 'One eval run with every item’s result',
      request: { params: IdParam },
      responses: { 200: json(EvalRunWithResults, 'The run and its results'), ...errors },
    }),
    async (c) => c.json(unwrap(await getEval(ctx, { caller: c.get('auth'), id: c.req.valid('param').id })), 200),
  );
  return app;
}
