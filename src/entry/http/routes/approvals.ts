import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { listApprovals } from '../../../app/turns/index.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, routes, security } from '../openapi.js';
import { Approval } from '../schemas.js';
import { KeysetCursor } from '../schema-kit.js';

/** `GET /v1/approvals`: tool calls waiting for (or decided by) a person, in the caller's conversations. */
export function approvalRoutes(ctx: Pick<AppContext, 'store'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/approvals',
      tags: ['turns'],
      security,
      summary: 'Approvals of the conversations the caller takes part in, newest first',
      request: {
        query: z.object({
          status: z.enum(['pending', 'approved', 'denied', 'expired', 'all']).default('pending'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: KeysetCursor.optional(),
        }),
      },
      responses: { 200: json(z.object({ approvals: z.array(Approval), next_cursor: z.string().nullable() })), ...errorResponses() },
    }),
    async (c) => {
      const { status, limit, cursor } = c.req.valid('query');
      const page = unwrap(await listApprovals(ctx, { caller: c.get('auth'), limit, ...(status === 'all' ? {} : { status }), ...(cursor ? { cursor } : {}) }));
      return c.json(page, 200);
    },
  );
  return app;
}
