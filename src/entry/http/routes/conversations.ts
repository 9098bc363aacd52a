import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { createConversation, getConversation, listConversations, listMessages } from '../../../app/conversations.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security, writeErrors } from '../openapi.js';
import { KeysetCursor } from '../schema-kit.js';
import { Conversation, ConversationCreate, IdParam, Message } from '../schemas.js';

const errors = errorResponses();

/** `/v1/conversations`: create and read conversations and their messages (sending is `messages.ts`). */
export function conversationRoutes(ctx: Pick<AppContext, 'store' | 'ids' | 'clock'>) {
  const app = routes();
  app.openapi(
    createRoute({ method: 'post', path: '/v1/conversations', tags: ['conversations'], security, request: { body: jsonBody(ConversationCreate) }, responses: { 201: json(Conversation, 'Conversation created'), ...errors, ...writeErrors } }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(unwrap(await createConversation(ctx, { caller: c.get('auth'), capsuleId: body.capsule_id, title: body.title })), 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/conversations',
      tags: ['conversations'],
      security,
      summary: 'Conversations the caller takes part in, newest first',
      request: { query: z.object({ capsule_id: z.string().uuid().optional(), limit: z.coerce.number().int().min(1).max(200).default(50), cursor: KeysetCursor.optional() }) },
      responses: { 200: json(z.object({ conversations: z.array(Conversation.extend({ role: z.enum(['owner', 'participant', 'observer']) })), next_cursor: z.string().nullable() }), 'A page of conversations'), ...errors },
    }),
    async (c) => {
      const { capsule_id, limit, cursor } = c.req.valid('query');
      return c.json(unwrap(await listConversations(ctx, { caller: c.get('auth'), limit, ...(capsule_id ? { capsuleId: capsule_id } : {}), ...(cursor ? { cursor } : {}) })), 200);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/conversations/{id}', tags: ['conversations'], security, request: { params: IdParam }, responses: { 200: json(Conversation), ...errors } }),
    async (c) => c.json(unwrap(await getConversation(ctx, { caller: c.get('auth'), id: c.req.valid('param').id })), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/conversations/{id}/messages',
      tags: ['conversations'],
      security,
      request: { params: IdParam },
      responses: { 200: json(z.object({ conversation_id: z.string(), messages: z.array(Message) })), ...errors },
    }),
    async (c) => c.json(unwrap(await listMessages(ctx, { caller: c.get('auth'), id: c.req.valid('param').id })), 200),
  );
  return app;
}
