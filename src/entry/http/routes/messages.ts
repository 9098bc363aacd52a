import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppContext } from '../../../app/context.js';
import { prepareTurn, runPreparedTurn, sendMessage, type TurnEvent } from '../../../app/send-message/index.js';
import { toHttpError, unwrap } from '../http-errors.js';
import { errorResponses, jsonBody, routes, security, type Env } from '../openapi.js';
import { IdParam, MessageCreate, TurnCompleted } from '../schemas.js';

const route = createRoute({
  method: 'post',
  path: '/v1/conversations/{id}/messages',
  tags: ['conversations'],
  security,
  summary: 'Send a message and run a turn',
  description:
    'With `Accept: text/event-stream` the turn streams as SSE: turn.started, iteration.started, iteration.delta, tool.call, tool.result, iteration.completed, turn.completed, error. Otherwise the request blocks and returns the turn.completed object.',
  request: { params: IdParam, body: jsonBody(MessageCreate) },
  responses: { 200: { content: { 'application/json': { schema: TurnCompleted }, 'text/event-stream': { schema: z.string() } }, description: 'The turn' }, ...errorResponses() },
});

/** `POST /v1/conversations/:id/messages` (SPEC §3, §4): one turn, as JSON or streamed as SSE. */
export function messageRoutes(ctx: AppContext) {
  const app = routes();
  app.openapi(route, (async (c: Context<Env>) => {
    const caller = c.get('auth');
    const conversationId = (c.req as never as { valid(t: 'param'): { id: string } }).valid('param').id;
    const { content } = (c.req as never as { valid(t: 'json'): { content: string } }).valid('json');
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      const controller = new AbortController();
      c.req.raw.signal?.addEventListener('abort', () => controller.abort(), { once: true });
      return c.json(unwrap(await sendMessage(ctx, { caller, conversationId, content, signal: controller.signal })), 200);
    }
    // Refusals (404, 403, no model…) come back as plain JSON errors before the stream opens.
    const prepared = unwrap(await prepareTurn(ctx, { caller, conversationId, content }));
    return streamSSE(c, async (stream) => {
      const controller = new AbortController();
      stream.onAbort(() => controller.abort(new DOMException('client disconnected', 'AbortError')));
      let chain = Promise.resolve();
      const onEvent = (event: TurnEvent) => {
        chain = chain.then(() => (stream.aborted ? undefined : stream.writeSSE({ event: event.event, data: JSON.stringify(event.data) }))).catch(() => undefined);
      };
      try {
        await runPreparedTurn(ctx, prepared, { caller, signal: controller.signal, onEvent });
      } catch (err) {
        const { body } = toHttpError(err);
        onEvent({ event: 'error', data: { code: body.error.code, message: body.error.message } });
      }
      await chain;
    });
  }) as never);
  return app;
}
