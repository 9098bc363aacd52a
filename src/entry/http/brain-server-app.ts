import { OpenAPIHono } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import type { Brain } from '../../ports/brain.js';
import { requireServiceOrApiKey, type Authenticate } from './auth.js';
import { toHttpError } from './http-errors.js';
import { notFoundOrMethodNotAllowed } from './method-not-allowed.js';
import { requestHygiene } from './request-hygiene.js';
import type { Env } from './openapi.js';
import { brainLearningRoutes } from './routes/brain-learning.js';
import { brainRoutes } from './routes/brain.js';
import { mountOps, type Readiness } from './routes/ops.js';

export interface BrainServerAppOptions {
  brain: Brain;
  /** Resolves a tenant API key (callers other than a Soma server). */
  authenticate: Authenticate;
  /** The shared `SOMA_ADMIN_TOKEN` a Soma server calls with (plus `x-soma-tenant`). */
  adminToken?: string;
  readiness?: Readiness;
  metricsRegistry?: Registry;
}

/**
 * `soma brain serve`: the brain alone — its protocol (`/v1/learning/*`, `/v1/memory/*`, including the
 * learning history, rollback and reset) behind API-key or service auth, plus health and metrics.
 */
export function createBrainServerApp({ brain, authenticate, adminToken, readiness = {}, metricsRegistry }: BrainServerAppOptions) {
  const app = new OpenAPIHono<Env>();
  app.onError((err, c) => {
    const { status, body } = toHttpError(err);
    return c.json(body, status);
  });
  app.notFound(notFoundOrMethodNotAllowed(app));
  app.use('*', requestHygiene());
  mountOps(app, { readiness, ...(metricsRegistry ? { metricsRegistry } : {}) });
  app.use('/v1/*', requireServiceOrApiKey(adminToken, authenticate));
  app.route('/', brainRoutes({ brain }));
  app.route('/', brainLearningRoutes({ brain }));
  return app;
}
