import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Registry } from 'prom-client';
import type { AppContext } from '../../app/context.js';
import { authenticate } from '../../app/tenancy.js';
import { requireAdmin, requireApiKey } from './auth.js';
import { errorBody, toHttpError, validationHook } from './http-errors.js';
import type { Env } from './openapi.js';
import { adminRoutes } from './routes/admin.js';
import { brainRoutes } from './routes/brain.js';
import { capsuleRoutes } from './routes/capsules.js';
import { conversationRoutes } from './routes/conversations.js';
import { evalRoutes } from './routes/evals.js';
import { eventRoutes } from './routes/events.js';
import { feedbackRoutes } from './routes/feedback.js';
import { learningRoutes } from './routes/learning.js';
import { messageRoutes } from './routes/messages.js';
import { mountDocs, mountOps, type Readiness } from './routes/ops.js';
import { traceRoutes } from './routes/trace.js';
import { catalogueRoutes } from './routes/catalogue.js';
import { replayRoutes } from './routes/replay.js';
import { approvalRoutes } from './routes/approvals.js';
import { turnRoutes } from './routes/turns.js';
import { rejectUnstorableText } from './text-hygiene.js';
import { mountStudio, type MountStudioOptions } from './studio.js';
import { notFoundOrMethodNotAllowed } from './method-not-allowed.js';
import { requestHygiene } from './request-hygiene.js';
import type { Catalogue } from '../../app/catalogue.js';

export interface HttpAppOptions {
  ctx: AppContext;
  adminToken?: string;
  metricsRegistry?: Registry;
  /** Readiness checks: name → probe; any rejection makes /readyz answer 503. */
  readiness?: Readiness;
  /** Also serve the brain protocol (`/v1/learning/*`, `/v1/memory/*`): when the brain runs in this process. */
  serveBrain?: boolean;
  /** Maximum request body in bytes (default 1 MB). */
  maxBodyBytes?: number;
  /** What a capsule may choose on this server (`GET /v1/catalogue`). */
  catalogue?: () => Catalogue;
  /** Serve the Studio (the web UI) at `/`; without it `/` is a 404. */
  studio?: MountStudioOptions;
}

/** The Soma HTTP API (SPEC §8): one Hono app of per-resource routes, testable in-process with `app.request()`. */
export function createHttpApp({ ctx, adminToken, metricsRegistry, readiness = {}, serveBrain = false, maxBodyBytes = 1024 * 1024, catalogue, studio }: HttpAppOptions) {
  const app = new OpenAPIHono<Env>({ defaultHook: validationHook as never });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.onError((err, c) => {
    const { status, body, headers } = toHttpError(err);
    if (status === 503) c.header('retry-after', body.error.code === 'NOT_READY' ? '5' : '2');
    if (status >= 500 && status !== 503) ctx.logger.error({ err, path: c.req.path }, 'request failed');
    else if (status === 503) ctx.logger.warn({ code: body.error.code, path: c.req.path }, 'request refused: service unavailable');
    return c.json(body, status, headers);
  });
  app.notFound(notFoundOrMethodNotAllowed(app));
  // The rest of a refused body is never read, so the connection cannot carry another request:
  // `Connection: close` ends it after the 413 and a keep-alive client opens a new one.
  app.use(
    '*',
    bodyLimit({ maxSize: maxBodyBytes, onError: (c) => c.json(errorBody('PAYLOAD_TOO_LARGE', `the request body exceeds ${maxBodyBytes} bytes`), 413, { connection: 'close' }) }),
  );
  app.use('*', requestHygiene());

  mountOps(app, { readiness, health: () => ctx.health.snapshot(), draining: () => ctx.live.draining, ...(metricsRegistry ? { metricsRegistry } : {}) });
  mountDocs(app);

  const byApiKey = requireApiKey((apiKey) => authenticate(ctx, { apiKey }));
  app.use('/v1/admin/*', requireAdmin(adminToken));
  app.use('/v1/*', async (c, next) => (c.req.path.startsWith('/v1/admin/') ? next() : byApiKey(c, next)));
  app.use('/v1/*', rejectUnstorableText());

  for (const resource of [adminRoutes(ctx), capsuleRoutes(ctx), conversationRoutes(ctx), messageRoutes(ctx), eventRoutes(ctx), traceRoutes(ctx), learningRoutes(ctx), replayRoutes(ctx), turnRoutes(ctx), approvalRoutes(ctx), feedbackRoutes(ctx), evalRoutes(ctx)]) app.route('/', resource);
  if (catalogue) app.route('/', catalogueRoutes({ catalogue }));
  if (serveBrain) app.route('/', brainRoutes({ brain: ctx.brain }));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Soma API', version: '0.1.0', description: 'Chat agents that think in iterations and learn from every one.' },
  });
  if (studio) mountStudio(app, studio);
  return app;
}
