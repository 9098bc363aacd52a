import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { decideApproval, getTurnStatus, openTurnEvents, resumeTurn } from '../../../app/turns/index.js';
import { unwrap } from '../http-errors.js';
import type { Context } from 'hono';
import { errorResponses, json, jsonBody, routes, security, type Env } from '../openapi.js';
import { Approval, ApprovalDecisionBody, ErrorResponse, TurnStatus, Uuid } from '../schemas.js';
import { streamTurnEvents } from '../sse.js';
import { SseEvent } from '../response-schemas.js';

const TurnParam = z.object({ turn_id: Uuid.openapi({ param: { name: 'turn_id', in: 'path' } }) });
const errors = errorResponses('Unknown turn, another tenant’s, or of a conversation the caller is not part of');
const conflict = { 409: json(ErrorResponse, 'The turn or approval is not in a state that allows this') };
const unavailable = { 503: json(ErrorResponse, 'The database cannot be reached, or the server is shutting down (`Retry-After`)') };

/** `Last-Event-ID` as a number (0 = from the start); anything else starts from the beginning too. */
function lastEventId(header: string | undefined): number {
  const id = Number(header);
  return Number.isSafeInteger(id) && id > 0 ? id : 0;
}

/** `/v1/turns/:turn_id` (SPEC §13.4): status, the event stream with reattach, approval decisions, resume. */
export function turnRoutes(ctx: AppContext) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/turns/{turn_id}',
      tags: ['turns'],
      security,
      summary: 'Status of a turn (running, awaiting_approval, completed, failed, interrupted), its pending approvals and, once closed, its answer',
      request: { params: TurnParam },
      responses: { 200: json(TurnStatus, 'The turn'), ...errors },
    }),
    async (c) => c.json(unwrap(await getTurnStatus(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id })) as z.infer<typeof TurnStatus>, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/turns/{turn_id}/events',
      tags: ['turns'],
      security,
      summary: 'The turn’s SSE events from Last-Event-ID (or the start), following it live until it closes',
      description: 'The same events, with the same ids, as the `POST …/messages` stream, served from what is stored — also after a restart of the server, and from any server. A `: ping` comment keeps a quiet stream open; the stream ends after the turn closes.',
      request: {
        params: TurnParam,
        headers: z.object({ 'last-event-id': z.string().max(20).optional() }),
      },
      responses: { 200: { content: { 'text/event-stream': { schema: SseEvent } }, description: 'The event stream' }, ...errors },
    }),
    (async (c: Context<Env>) => {
      const turnId = (c.req as never as { valid(t: 'param'): { turn_id: string } }).valid('param').turn_id;
      const after = lastEventId(c.req.header('last-event-id'));
      // Access is checked (404) before the stream opens.
      const follow = unwrap(await openTurnEvents(ctx, { caller: c.get('auth'), turnId }));
      return streamTurnEvents(c, { pingMs: ctx.settings.ssePingMs, open: (signal) => follow({ after, signal }) });
    }) as never,
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/turns/{turn_id}/approvals',
      tags: ['turns'],
      security,
      summary: 'Approve or deny a paused tool call; the last decision of a pause resumes the turn (in this server)',
      request: { params: TurnParam, body: jsonBody(ApprovalDecisionBody) },
      responses: {
        202: json(z.object({ turn_id: z.string(), approval: Approval, turn_status: z.string() }), 'Decided; the turn resumes once no call of its pause waits'),
        ...errors,
        403: json(ErrorResponse, 'Observers cannot decide'),
        ...conflict,
        ...unavailable,
      },
    }),
    async (c) => {
      const decision = c.req.valid('json');
      const decided = unwrap(await decideApproval(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id, decision: { call_id: decision.call_id, approved: decision.approved, ...(decision.reason !== undefined ? { reason: decision.reason } : {}) } }));
      return c.json(decided, 202);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/turns/{turn_id}/resume',
      tags: ['turns'],
      security,
      summary: 'Continue an interrupted or failed turn from its last committed iteration (in the background)',
      request: { params: TurnParam },
      responses: {
        202: json(z.object({ turn_id: z.string(), status: z.literal('running'), from_iteration: z.number().int() }), 'The turn runs again; follow it with GET /v1/turns/{turn_id}/events'),
        ...errors,
        403: json(ErrorResponse, 'Observers cannot resume'),
        ...conflict,
        ...unavailable,
      },
    }),
    async (c) => {
      const resumed = unwrap(await resumeTurn(ctx, { caller: c.get('auth'), turnId: c.req.valid('param').turn_id }));
      c.header('location', `/v1/turns/${resumed.turn_id}`);
      return c.json(resumed, 202);
    },
  );
  return app;
}
