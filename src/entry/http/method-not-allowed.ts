import type { Context, Hono } from 'hono';
import type { Env } from './openapi.js';
import { errorBody } from './http-errors.js';

/** Path patterns of the app's routes (`/v1/capsules/:id`) → the methods each answers. */
function routeTable(app: Hono<Env>): { pattern: RegExp; methods: Set<string> }[] {
  const table = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    const methods = table.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    if (route.method === 'GET') methods.add('HEAD');
    table.set(route.path, methods);
  }
  return [...table].map(([path, methods]) => ({ pattern: new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\/:[^/]+/g, '/[^/]+')}$`), methods }));
}

/**
 * The app's not-found handler: a known path asked with a method it does not answer is 405 with
 * `Allow` (RFC 9110), anything else 404. Call after every route is mounted; routes added later are
 * seen too (the table is built on first use).
 */
export function notFoundOrMethodNotAllowed(app: Hono<Env>) {
  let table: ReturnType<typeof routeTable> | undefined;
  return (c: Context<Env>) => {
    table ??= routeTable(app);
    const allowed = new Set<string>();
    for (const route of table) if (route.pattern.test(c.req.path)) for (const method of route.methods) allowed.add(method);
    if (allowed.size > 0 && !allowed.has(c.req.method)) {
      const allow = [...allowed].sort().join(', ');
      return c.json(errorBody('METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allow})`), 405, { allow });
    }
    return c.json(errorBody('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), 404);
  };
}
