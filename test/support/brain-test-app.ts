import { OpenAPIHono } from '@hono/zod-openapi';
import { SomaError } from '../../src/shared/errors.js';
import { bearerToken, toHttpError, type Env } from '../../src/entry/http/index.js';

/**
 * Test support for the brain route suites: a bare app whose "API key" is the tenant id
 * (`Authorization: Bearer <tenant id>`), with the main app's error mapping, mounting the given routes.
 */
export function createBrainTestApp(...routes: OpenAPIHono<Env>[]): OpenAPIHono<Env> {
  const app = new OpenAPIHono<Env>();
  app.onError((error, c) => {
    const { status, body } = toHttpError(error);
    return c.json(body, status);
  });
  app.use('/v1/*', async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new SomaError('UNAUTHORIZED', 'missing Authorization: Bearer <api key>');
    c.set('auth', { tenantId: token, userId: 'test-user' });
    await next();
  });
  for (const route of routes) app.route('/', route);
  return app;
}
