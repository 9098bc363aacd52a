import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { pino } from 'pino';
import type { Config } from '../../config.js';
import { createLocalBrain } from '../../adapters/brain/index.js';
import { createMetrics } from '../../adapters/metrics/index.js';
import { openConfiguredDatabase, type Database } from '../../adapters/store/index.js';
import { authenticate, type Caller } from '../../app/tenancy.js';
import { SomaError } from '../../shared/errors.js';
import { createBrainRoutes } from '../http/brain-routes.js';
import { errorBody, toHttpError } from '../http/errors.js';

/**
 * `soma brain serve`: the brain alone. Callers authenticate with a tenant API key, or — for a Soma
 * server using this brain through `SOMA_BRAIN_URL` — with the shared `SOMA_ADMIN_TOKEN` plus the
 * `x-soma-tenant` header naming the tenant it acts for.
 */
export function createBrainServerApp({ database, adminToken }: { database: Database; adminToken?: string }) {
  const metrics = createMetrics({ defaultMetrics: true });
  const brain = createLocalBrain({ database, metrics });
  const app = new OpenAPIHono<{ Variables: { auth: Caller } }>();
  app.onError((err, c) => {
    const { status, body } = toHttpError(err);
    return c.json(body, status);
  });
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await database.ping();
      return c.json({ status: 'ready' });
    } catch (err) {
      return c.json({ status: 'not_ready', error: (err as Error).message }, 503);
    }
  });
  app.get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  app.use('/v1/*', async (c, next) => {
    const token = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    if (!token) throw new SomaError('UNAUTHORIZED', 'missing Authorization: Bearer <api key>');
    if (adminToken && token === adminToken) {
      const tenantId = c.req.header('x-soma-tenant');
      if (!tenantId) throw new SomaError('BAD_REQUEST', 'service calls must name the tenant in x-soma-tenant');
      c.set('auth', { tenantId, userId: 'soma-service' });
    } else {
      c.set('auth', await authenticate({ database, apiKey: token }));
    }
    await next();
  });
  app.route('/', createBrainRoutes({ brain }));
  return app;
}

export async function serveBrain(cfg: Config): Promise<void> {
  const logger = pino({ level: cfg.logLevel, base: { service: 'soma-brain' } });
  const database = await openConfiguredDatabase(cfg);
  await database.migrate();
  const app = createBrainServerApp({ database, adminToken: cfg.adminToken });
  const server = serve({ fetch: app.fetch, port: cfg.port, hostname: cfg.host }, (info) => logger.info({ port: info.port }, `soma brain listening on http://localhost:${info.port}`));
  const shutdown = () => server.close(() => void database.close().then(() => process.exit(0)));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
