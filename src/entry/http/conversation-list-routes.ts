import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Database } from '../../adapters/store/index.js';
import { listConversations } from '../../app/list-conversations.js';
import type { BrainRoutesEnv } from './brain-routes.js';
import { validationHook } from './errors.js';
import { Conversation, ErrorResponse } from './schemas.js';

/** `GET /v1/conversations` — the caller's conversations, newest first (optionally of one capsule). */
export function createConversationListRoutes({ database }: { database: Database }): OpenAPIHono<BrainRoutesEnv> {
  const app = new OpenAPIHono<BrainRoutesEnv>({ defaultHook: validationHook as never });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/conversations',
      tags: ['conversations'],
      security: [{ bearerAuth: [] }],
      summary: 'Conversations the caller takes part in, newest first',
      request: {
        query: z.object({
          capsule_id: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(500).optional(),
        }),
      },
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ conversations: z.array(Conversation.extend({ role: z.string() })), next_cursor: z.string().nullable() }) } },
          description: 'A page of conversations',
        },
        400: { content: { 'application/json': { schema: ErrorResponse } }, description: 'Bad request' },
        401: { content: { 'application/json': { schema: ErrorResponse } }, description: 'Missing or invalid API key' },
      },
    }),
    async (c) => {
      const { capsule_id, limit, cursor } = c.req.valid('query');
      return c.json(await listConversations({ database, caller: c.get('auth'), limit, ...(capsule_id ? { capsuleId: capsule_id } : {}), ...(cursor ? { cursor } : {}) }), 200);
    },
  );
  return app;
}
