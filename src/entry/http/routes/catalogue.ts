import { createRoute, z } from '@hono/zod-openapi';
import type { Catalogue } from '../../../app/catalogue.js';
import { json, routes, security } from '../openapi.js';
import { ErrorResponse } from '../schemas.js';

const CatalogueSchema = z
  .object({
    tools: z.array(z.object({ name: z.string(), kind: z.literal('builtin'), description: z.string(), input_schema: z.record(z.string(), z.unknown()) })),
    mcp_servers: z.array(z.string()).openapi({ description: 'Names of the MCP servers of SOMA_MCP_SERVERS: what an MCP tool’s config.server may name' }),
    models: z.object({
      default: z.string(),
      choices: z.array(z.string()),
      providers: z.array(z.object({ prefix: z.enum(['openai', 'anthropic', 'openai-compatible', 'local', 'scripted']), available: z.boolean(), reason: z.string().optional() })),
    }),
  })
  .openapi('Catalogue');

/** `GET /v1/catalogue` — the operator's built-in tools (with argument schemas), MCP server names and the models a capsule may choose. */
export function catalogueRoutes({ catalogue }: { catalogue: () => Catalogue }) {
  const app = routes();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/catalogue',
      tags: ['capsules'],
      security,
      summary: 'Tools and models a capsule may use on this server',
      responses: { 200: json(CatalogueSchema, 'The catalogue'), 401: json(ErrorResponse, 'Missing or invalid API key') },
    }),
    (c) => c.json(catalogue(), 200),
  );
  return app;
}
