import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { Registry } from 'prom-client';
import { createApiKey, createTenant, authenticate, type Caller } from '../../app/tenancy.js';
import { createCapsule, getCapsule, listCapsules, patchCapsule } from '../../app/capsules.js';
import { createConversation, getConversation, listMessages } from '../../app/conversations.js';
import type { AppContext } from '../../app/context.js';
import { prepareTurn, runPreparedTurn, sendMessage, type TurnEvent } from '../../app/send-message.js';
import { getConversationTrace, getTurnTrace, listEvents } from '../../app/trace.js';
import { SomaError } from '../../shared/errors.js';
import { errorBody, respondError, toHttpError, validationHook } from './errors.js';
import * as s from './schemas.js';

export type Env = { Variables: { auth: Caller } };

export interface HttpAppOptions {
  ctx: AppContext;
  adminToken?: string;
  metricsRegistry?: Registry;
  /** Readiness checks: name → probe; any rejection makes /readyz answer 503. */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Extra sub-apps mounted under `/` after auth (brain and learning routes). */
  mount?: (app: OpenAPIHono<Env>) => void;
  /** Maximum request body in bytes (default 1 MB). */
  maxBodyBytes?: number;
}

const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({ content: { 'application/json': { schema } }, description });
const errors = {
  400: json(s.ErrorResponse, 'Bad request'),
  401: json(s.ErrorResponse, 'Missing or invalid API key'),
  404: json(s.ErrorResponse, 'Not found (also for other tenants\u2019 ids)'),
};
const bearer = [{ bearerAuth: [] }];

/** The Soma HTTP API (SPEC §8): one Hono app, testable in-process with `app.request()`. */
export function createHttpApp({ ctx, adminToken, metricsRegistry, readiness = {}, mount, maxBodyBytes = 1024 * 1024 }: HttpAppOptions) {
  const app = new OpenAPIHono<Env>({ defaultHook: validationHook as never });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });

  app.onError((err, c) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) ctx.logger.error({ err, path: c.req.path }, 'request failed');
    return c.json(body, status);
  });
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => c.json(errorBody('PAYLOAD_TOO_LARGE', `the request body exceeds ${maxBodyBytes} bytes`), 413),
    }),
  );

  // --- ops -------------------------------------------------------------------------------------
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const [name, probe] of Object.entries(readiness)) {
      try {
        await probe();
        checks[name] = 'ok';
      } catch (err) {
        ready = false;
        checks[name] = `failing: ${(err as Error).message}`;
      }
    }
    return c.json({ status: ready ? 'ready' : 'not_ready', checks, health: ctx.health.snapshot() }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    if (!metricsRegistry) return c.text('', 200);
    return c.text(await metricsRegistry.metrics(), 200, { 'content-type': metricsRegistry.contentType });
  });
  mountDocs(app);

  // --- auth ------------------------------------------------------------------------------------
  const requireAdmin: MiddlewareHandler<Env> = async (c, next) => {
    if (!adminToken) throw new SomaError('FORBIDDEN', 'the admin API is disabled (set SOMA_ADMIN_TOKEN)');
    if (bearerToken(c) !== adminToken) throw new SomaError('UNAUTHORIZED', 'invalid admin token');
    await next();
  };
  const requireKey: MiddlewareHandler<Env> = async (c, next) => {
    const token = bearerToken(c);
    if (!token) throw new SomaError('UNAUTHORIZED', 'missing Authorization: Bearer <api key>');
    c.set('auth', await authenticate({ database: ctx.database, apiKey: token }));
    await next();
  };
  app.use('/v1/admin/*', requireAdmin);
  app.use('/v1/*', async (c, next) => (c.req.path.startsWith('/v1/admin/') ? next() : requireKey(c, next)));

  // --- admin -----------------------------------------------------------------------------------
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/tenants',
      tags: ['admin'],
      security: bearer,
      request: { body: { content: { 'application/json': { schema: s.TenantCreate } }, required: true } },
      responses: { 201: json(z.object({ id: z.string(), name: z.string(), api_key: z.string(), user_id: z.string() }), 'Tenant created'), ...errors },
    }),
    async (c) => c.json(await createTenant({ database: ctx.database, name: c.req.valid('json').name }), 201),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/tenants/{id}/api-keys',
      tags: ['admin'],
      security: bearer,
      request: { params: s.IdParam, body: { content: { 'application/json': { schema: z.object({ user_id: z.string().min(1).max(200).optional() }).strict() } }, required: false } },
      responses: { 201: json(z.object({ api_key: z.string(), user_id: z.string() }), 'API key created'), ...errors },
    }),
    async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { user_id?: string };
      return c.json(await createApiKey({ database: ctx.database, tenantId: c.req.valid('param').id, userId: body.user_id }), 201);
    },
  );

  // --- capsules --------------------------------------------------------------------------------
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/capsules',
      tags: ['capsules'],
      security: bearer,
      request: { body: { content: { 'application/json': { schema: s.CapsuleCreate } }, required: true } },
      responses: { 201: json(s.Capsule, 'Capsule created'), ...errors },
    }),
    async (c) => c.json(await createCapsule({ database: ctx.database, caller: c.get('auth'), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/capsules',
      tags: ['capsules'],
      security: bearer,
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().optional() }) },
      responses: { 200: json(z.object({ capsules: z.array(s.Capsule), next_cursor: z.string().nullable() })), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(await listCapsules({ database: ctx.database, caller: c.get('auth'), limit, cursor }), 200);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/capsules/{id}', tags: ['capsules'], security: bearer, request: { params: s.IdParam }, responses: { 200: json(s.Capsule), ...errors } }),
    async (c) => c.json(await getCapsule({ database: ctx.database, caller: c.get('auth'), id: c.req.valid('param').id }), 200),
  );
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/capsules/{id}',
      tags: ['capsules'],
      security: bearer,
      request: { params: s.IdParam, body: { content: { 'application/json': { schema: s.CapsulePatch } }, required: true } },
      responses: { 200: json(s.Capsule), ...errors },
    }),
    async (c) => c.json(await patchCapsule({ database: ctx.database, caller: c.get('auth'), id: c.req.valid('param').id, input: c.req.valid('json') }), 200),
  );

  // --- conversations ---------------------------------------------------------------------------
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/conversations',
      tags: ['conversations'],
      security: bearer,
      request: { body: { content: { 'application/json': { schema: s.ConversationCreate } }, required: true } },
      responses: { 201: json(s.Conversation, 'Conversation created'), ...errors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(await createConversation({ database: ctx.database, caller: c.get('auth'), capsuleId: body.capsule_id, title: body.title }), 201);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/conversations/{id}', tags: ['conversations'], security: bearer, request: { params: s.IdParam }, responses: { 200: json(s.Conversation), ...errors } }),
    async (c) => c.json(await getConversation({ database: ctx.database, caller: c.get('auth'), id: c.req.valid('param').id }), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/conversations/{id}/messages',
      tags: ['conversations'],
      security: bearer,
      request: { params: s.IdParam },
      responses: { 200: json(z.object({ conversation_id: z.string(), messages: z.array(s.Message) })), ...errors },
    }),
    async (c) => c.json(await listMessages({ database: ctx.database, caller: c.get('auth'), id: c.req.valid('param').id }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/conversations/{id}/messages',
      tags: ['conversations'],
      security: bearer,
      summary: 'Send a message and run a turn',
      description:
        'With `Accept: text/event-stream` the turn streams as SSE: turn.started, iteration.started, iteration.delta, tool.call, tool.result, iteration.completed, turn.completed, error. Otherwise the request blocks and returns the turn.completed object.',
      request: { params: s.IdParam, body: { content: { 'application/json': { schema: s.MessageCreate } }, required: true } },
      responses: { 200: { content: { 'application/json': { schema: s.TurnCompleted }, 'text/event-stream': { schema: z.string() } }, description: 'The turn' }, ...errors },
    }),
    (async (c: Context<Env>) => {
      const caller = c.get('auth');
      const conversationId = (c.req as never as { valid(t: 'param'): { id: string } }).valid('param').id;
      const { content } = (c.req as never as { valid(t: 'json'): { content: string } }).valid('json');
      if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
        const controller = new AbortController();
        c.req.raw.signal?.addEventListener('abort', () => controller.abort(), { once: true });
        return c.json(await sendMessage(ctx, { caller, conversationId, content, signal: controller.signal }), 200);
      }
      // Refusals (404, 403, no model…) come back as plain JSON errors before the stream opens.
      const prepared = await prepareTurn(ctx, { caller, conversationId, content });
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
    }) as never,
  );

  // --- events and traces -----------------------------------------------------------------------
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/events',
      tags: ['events'],
      security: bearer,
      request: { query: z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: { 200: json(z.object({ events: z.array(s.Event), next_after: z.number() })), ...errors },
    }),
    async (c) => {
      const { after, limit } = c.req.valid('query');
      return c.json(await listEvents({ database: ctx.database, caller: c.get('auth'), after, limit }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trace/conversation/{id}',
      tags: ['trace'],
      security: bearer,
      request: { params: s.IdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10), cursor: z.string().optional() }) },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'Turns of the conversation, newest first'), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(await getConversationTrace({ database: ctx.database, caller: c.get('auth'), conversationId: c.req.valid('param').id, limit, cursor }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trace/{turn_id}',
      tags: ['trace'],
      security: bearer,
      request: {
        params: z.object({ turn_id: s.Uuid.openapi({ param: { name: 'turn_id', in: 'path' } }) }),
        query: z.object({ include_messages: z.enum(['true', 'false']).default('false') }),
      },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The decision trace of one turn'), ...errors },
    }),
    async (c) => {
      const trace = await getTurnTrace({ database: ctx.database, caller: c.get('auth'), turnId: c.req.valid('param').turn_id, includeMessages: c.req.valid('query').include_messages === 'true' });
      return c.json(trace as Record<string, unknown>, 200);
    },
  );

  mount?.(app);

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Soma API', version: '0.1.0', description: 'Chat agents that think in iterations and learn from every one.' },
  });
  return app;
}

function bearerToken(c: Context): string | undefined {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** `/docs`: Swagger UI served from the installed package (no CDN, works offline). */
function mountDocs(app: OpenAPIHono<Env>) {
  const assets: Record<string, string> = { 'swagger-ui.css': 'text/css', 'swagger-ui-bundle.js': 'application/javascript', 'swagger-ui-standalone-preset.js': 'application/javascript' };
  app.get('/docs', (c) =>
    c.html(`<!doctype html><html><head><meta charset="utf-8"><title>Soma API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });</script></body></html>`),
  );
  app.get('/docs/:asset', (c) => {
    const asset = c.req.param('asset');
    const type = assets[asset];
    if (!type) return respondError(c, new SomaError('NOT_FOUND', 'no such asset'));
    return c.body(readFileSync(path.join(swaggerDir, asset)), 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
}
