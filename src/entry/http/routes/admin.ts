import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { createApiKey, createTenant } from '../../../app/tenancy.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security } from '../openapi.js';
import { IdParam, TenantCreate } from '../schemas.js';

/** `/v1/admin/*` (the operator's admin token): tenants and their API keys. */
export function adminRoutes(ctx: Pick<AppContext, 'store' | 'ids'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/tenants',
      tags: ['admin'],
      security,
      request: { body: jsonBody(TenantCreate) },
      responses: { 201: json(z.object({ id: z.string(), name: z.string(), api_key: z.string(), user_id: z.string() }), 'Tenant created'), ...errorResponses() },
    }),
    async (c) => c.json(await createTenant(ctx, { name: c.req.valid('json').name }), 201),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/tenants/{id}/api-keys',
      tags: ['admin'],
      security,
      request: { params: IdParam, body: { content: { 'application/json': { schema: z.object({ user_id: z.string().min(1).max(200).optional() }).strict() } }, required: false } },
      responses: { 201: json(z.object({ api_key: z.string(), user_id: z.string() }), 'API key created'), ...errorResponses() },
    }),
    async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { user_id?: string };
      return c.json(unwrap(await createApiKey(ctx, { tenantId: c.req.valid('param').id, userId: body.user_id })), 201);
    },
  );
  return app;
}
