import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { getConversationTrace, getTurnTrace } from '../../../app/trace.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, routes, security } from '../openapi.js';
import { ConversationTrace, TurnTrace } from '../response-schemas.js';
import { KeysetCursor } from '../schema-kit.js';
import { IdParam, Uuid } from '../schemas.js';

const errors = errorResponses();

/** `/v1/trace/*`: the decision trace of a turn and the turns of a conversation. */
export function traceRoutes(ctx: Pick<AppContext, 'store'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trace/conversation/{id}',
      tags: ['trace'],
      security,
      request: { params: IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10), cursor: KeysetCursor.optional() }) },
      responses: { 200: json(ConversationTrace, 'Turns of the conversation, newest first'), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const trace = unwrap(await getConversationTrace(ctx, { caller: c.get('auth'), conversationId: c.req.valid('param').id, limit, cursor }));
      return c.json(trace, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trace/{turn_id}',
      tags: ['trace'],
      security,
      request: {
        params: z.object({ turn_id: Uuid.openapi({ param: { name: 'turn_id', in: 'path' } }) }),
        query: z.object({ include_messages: z.enum(['true', 'false']).default('false') }),
      },
      responses: { 200: json(TurnTrace, 'The decision trace of one turn'), ...errors },
    }),
    async (c) => {
      const trace = unwrap(await getTurnTrace(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id, includeMessages: c.req.valid('query').include_messages === 'true' }));
      return c.json(trace as never, 200);
    },
  );
  return app;
}
