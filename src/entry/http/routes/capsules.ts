import { createRoute, z } from '@hono/zod-openapi';
import { createCapsule, getCapsule, listCapsules, patchCapsule } from '../../../app/capsules/index.js';
import type { AppContext } from '../../../app/context.js';
import { unwrap } from '../http-errors.js';
import { errorResponses, json, jsonBody, routes, security, semanticErrors, writeErrors } from '../openapi.js';
import { KeysetCursor } from '../schema-kit.js';
import { Capsule, capsuleSchemas, IdParam } from '../schemas.js';

const errors = errorResponses();

/** `/v1/capsules`: create, list, read and patch the tenant's capsules. */
export function capsuleRoutes(ctx: Pick<AppContext, 'store' | 'ids' | 'clock' | 'builtinTools' | 'admission' | 'logger'>) {
  const app = routes();
  const { CapsuleCreate, CapsulePatch } = capsuleSchemas(ctx.builtinTools, ctx.admission?.mcpServers ?? []);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/capsules',
      tags: ['capsules'],
      security,
      request: { body: jsonBody(CapsuleCreate) },
      responses: { 201: json(Capsule, 'Capsule created'), ...errors, ...writeErrors, ...semanticErrors },
    }),
    async (c) => c.json(unwrap(await createCapsule(ctx, { caller: c.get('auth'), input: c.req.valid('json') })), 201),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/capsules',
      tags: ['capsules'],
      security,
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: KeysetCursor.optional() }) },
      responses: { 200: json(z.object({ capsules: z.array(Capsule), next_cursor: z.string().nullable() })), ...errors },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(unwrap(await listCapsules(ctx, { caller: c.get('auth'), limit, cursor })), 200);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/capsules/{id}', tags: ['capsules'], security, request: { params: IdParam }, responses: { 200: json(Capsule), ...errors } }),
    async (c) => c.json(unwrap(await getCapsule(ctx, { caller: c.get('auth'), id: c.req.valid('param').id })), 200),
  );
  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/capsules/{id}',
      tags: ['capsules'],
      security,
      request: { params: IdParam, body: jsonBody(CapsulePatch) },
      responses: { 200: json(Capsule), ...errors, ...writeErrors, ...semanticErrors },
    }),
    async (c) => c.json(unwrap(await patchCapsule(ctx, { caller: c.get('auth'), id: c.req.valid('param').id, input: c.req.valid('json') })), 200),
  );
  return app;
}
