import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { listEvents } from '../../../app/trace.js';
import { errorResponses, json, routes, security } from '../openapi.js';
import { EventPage } from '../response-schemas.js';

/** `GET /v1/events`: the tenant's event log (the outbox) in commit order, with delivery status. */
export function eventRoutes(ctx: Pick<AppContext, 'store'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events',
      tags: ['events'],
      security,
      request: { query: z.object({ after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: { 200: json(EventPage), ...errorResponses() },
    }),
    async (c) => {
      const { after, limit } = c.req.valid('query');
      return c.json((await listEvents(ctx, { caller: c.get('auth'), after, limit })) as never, 200);
    },
  );
  return app;
}
