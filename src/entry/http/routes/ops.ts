import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Hono } from 'hono';
import type { Env } from '../openapi.js';
import type { Registry } from 'prom-client';
import { SomaError } from '../../../shared/errors.js';
import { respondError } from '../http-errors.js';

/** Readiness checks: name → probe; any rejection makes /readyz answer 503. */
export type Readiness = Record<string, () => Promise<unknown>>;

/** `/healthz`, `/readyz` (with the health of each dependency when known) and `/metrics`. */
export function mountOps(
  app: Hono<Env>,
  { readiness, health, metricsRegistry, draining }: { readiness: Readiness; health?: () => Record<string, string>; metricsRegistry?: Registry; draining?: () => boolean },
) {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    // Draining (SIGTERM): not ready at once, so load balancers stop sending new work here.
    if (draining?.()) return c.json({ status: 'draining', checks: {} }, 503, { 'retry-after': '5' });
    const checks: Record<string, string> = {};
    const results = await Promise.all(
      Object.entries(readiness).map(async ([name, probe]) => {
        try {
          await probe();
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, `failing: ${(err as Error).message}`] as const;
        }
      }),
    );
    for (const [name, result] of results) checks[name] = result;
    const ready = results.every(([, result]) => result === 'ok');
    return c.json({ status: ready ? 'ready' : 'not_ready', checks, ...(health ? { health: health() } : {}) }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    if (!metricsRegistry) return c.text('', 200);
    return c.text(await metricsRegistry.metrics(), 200, { 'content-type': metricsRegistry.contentType });
  });
}

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** `/docs`: Swagger UI served from the installed package (no CDN, works offline). */
export function mountDocs(app: Hono<Env>) {
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
