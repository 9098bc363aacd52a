import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppContext } from '../../../app/context.js';
import { followTurnEvents } from '../../../app/turns/index.js';
import { isPaused, prepareTurn, startPreparedTurn } from '../../../app/send-message/index.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security, type Env } from '../openapi.js';
import { ErrorResponse, IdParam, MessageCreate, TurnAccepted, TurnCompleted, TurnPaused } from '../schemas.js';
import { streamTurnEvents } from '../sse.js';
import { SseEvent } from '../response-schemas.js';

const route = createRoute({
  method: 'post',
  path: '/v1/conversations/{id}/messages',
  tags: ['conversations'],
  security,
  summary: 'Send a message and run a turn',
  description:
    'With `Accept: text/event-stream` the turn streams as SSE (each event with `id: <n>`, a `: ping` comment on a quiet stream): turn.started, iteration.started, iteration.delta, tool.call, tool.result, tool.approval_required, iteration.completed, error, turn.completed; a client that disconnects cancels the turn, and the stream ends when the turn pauses for an approval (follow it with `GET /v1/turns/{turn_id}/events`). Otherwise the request blocks and returns the turn.completed object (200), or the pause (202). With `Prefer: respond-async` it answers 202 `{turn_id, status: "running"}` at once and the turn runs whatever the client does.',
  request: { params: IdParam, body: jsonBody(MessageCreate) },
  responses: {
    200: { content: { 'application/json': { schema: TurnCompleted }, 'text/event-stream': { schema: SseEvent } }, description: 'The turn' },
    202: { content: { 'application/json': { schema: z.union([TurnAccepted, TurnPaused]) } }, description: 'The turn runs on in the background (`Prefer: respond-async`), or waits for an approval' },
    ...errorResponses(),
    403: json(ErrorResponse, 'Observers cannot send in this conversation'),
    413: json(ErrorResponse, 'The body exceeds 1 MB, or the message is longer than the context lets in (PAYLOAD_TOO_LARGE; learning_config.message_overflow "truncate" cuts it instead)'),
    422: json(ErrorResponse, 'No model fits the capsule (NO_MODEL_AVAILABLE) or its stored settings are invalid'),
    429: json(ErrorResponse, 'The tenant is over a quota (RATE_LIMITED, with Retry-After)'),
    503: json(ErrorResponse, 'The database cannot be reached, or the server is shutting down (`Retry-After`)'),
  },
});

/** Whether the request asks for an asynchronous answer (RFC 7240 `Prefer: respond-async`). */
const respondAsync = (c: Context) => (c.req.header('prefer') ?? '').split(',').some((p) => p.trim().toLowerCase().split(/[;=\s]/)[0] === 'respond-async');

/** `POST /v1/conversations/:id/messages` (SPEC §3, §4, §13.4): one turn, as JSON, streamed as SSE, or in the background. */
export function messageRoutes(ctx: AppContext) {
  const app = routes();
  app.openapi(route, (async (c: Context<Env>) => {
    const caller = c.get('auth');
    const conversationId = (c.req as never as { valid(t: 'param'): { id: string } }).valid('param').id;
    const { content } = (c.req as never as { valid(t: 'json'): { content: string } }).valid('json');
    // Refusals (404, 403, no model…) and an unreachable database come back as plain errors before anything runs.
    const prepared = unwrap(await prepareTurn(ctx, { caller, conversationId, content }));
    if (respondAsync(c)) {
      const { turnId, done } = unwrap(await startPreparedTurn(ctx, prepared, { caller }));
      done.catch((err) => ctx.logger.error({ err, turn_id: turnId }, 'background turn failed'));
      c.header('preference-applied', 'respond-async');
      c.header('location', `/v1/turns/${turnId}`);
      return c.json({ turn_id: turnId, status: 'running' as const }, 202);
    }
    const controller = new AbortController();
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      c.req.raw.signal?.addEventListener('abort', () => controller.abort(), { once: true });
      const outcome = await unwrap(await startPreparedTurn(ctx, prepared, { caller, signal: controller.signal })).done;
      return isPaused(outcome) ? c.json(outcome, 202) : c.json(outcome, 200);
    }
    const { turnId, done } = unwrap(await startPreparedTurn(ctx, prepared, { caller, signal: controller.signal }));
    done.catch(() => undefined);
    return streamTurnEvents(c, {
      pingMs: ctx.settings.ssePingMs,
      // At a pause the stream ends and the turn waits; the client going away cancels it (SPEC §4).
      open: (signal) => followTurnEvents(ctx, { turnId, after: 0, signal, untilRunEnds: true }),
      onClientGone: () => controller.abort(new DOMException('client disconnected', 'AbortError')),
    });
  }) as never);
  return app;
}
