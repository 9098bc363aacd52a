import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../../../app/context.js';
import { createApiKey, createTenant, revokeApiKeyById } from '../../../app/tenancy.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security, writeErrors } from '../openapi.js';
import { ApiKeyCreate, ErrorResponse, IdParam, TenantCreate } from '../schemas.js';

const errors = { ...errorResponses('Tenant not found'), ...writeErrors, 401: json(ErrorResponse, 'Missing or invalid admin token'), 403: json(ErrorResponse, 'The admin API is disabled (no SOMA_ADMIN_TOKEN)') };

const keyFields = {
  api_key: z.string().openapi({ description: 'The key itself: shown once, only its SHA-256 is stored' }),
  key_id: z.string().openapi({ description: 'The key’s id, for DELETE /v1/admin/api-keys/{id}' }),
  user_id: z.string(),
  admin: z.boolean().openapi({ description: 'An admin key of the tenant reads every event of the tenant (GET /v1/events); other keys read those of their conversations' }),
};

/** `/v1/admin/*` (the operator's admin token): tenants and their API keys. */
export function adminRoutes(ctx: Pick<AppContext, 'store' | 'ids' | 'clock'>) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/tenants',
      tags: ['admin'],
      security,
      summary: 'Create a tenant and its admin key',
      request: { body: jsonBody(TenantCreate) },
      responses: { 201: json(z.object({ id: z.string(), name: z.string(), ...keyFields }), 'Tenant created'), ...errors },
    }),
    async (c) => c.json(await createTenant(ctx, { name: c.req.valid('json').name }), 201),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/admin/tenants/{id}/api-keys',
      tags: ['admin'],
      security,
      request: { params: IdParam, body: { content: { 'application/json': { schema: ApiKeyCreate } }, required: false } },
      responses: { 201: json(z.object(keyFields), 'API key created'), ...errors },
    }),
    async (c) => {
      const body: { user_id?: string; admin?: boolean } = (c.req.header('content-type') ?? '').includes('json') ? (c.req.valid('json') ?? {}) : {};
      return c.json(unwrap(await createApiKey(ctx, { tenantId: c.req.valid('param').id, userId: body.user_id, admin: body.admin })), 201);
    },
  );
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/admin/api-keys/{id}',
      tags: ['admin'],
      security,
      summary: 'Revoke an API key',
      description: 'The key answers 401 from then on. Revoking a revoked key again is no error.',
      request: { params: IdParam },
      responses: { 204: { description: 'Revoked' }, ...errors },
    }),
    async (c) => {
      unwrap(await revokeApiKeyById(ctx, { id: c.req.valid('param').id }));
      return c.body(null, 204);
    },
  );
  return app;
}
