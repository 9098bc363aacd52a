import type { MiddlewareHandler } from 'hono';
import { findUnstorableText } from '../../shared/text-hygiene.js';
import { errorBody } from './http-errors.js';
import type { Env } from './openapi.js';

/**
 * Refuses a JSON body holding a character PostgreSQL cannot store (NUL, an unpaired surrogate) with
 * 400 VALIDATION_FAILED naming the field (SPEC §13.4 text hygiene): nothing of it reaches the
 * database. Bodies that are not JSON are left to the route's own validation.
 */
export function rejectUnstorableText(): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method) || !(c.req.header('content-type') ?? '').includes('json')) return next();
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return next();
    }
    const field = findUnstorableText(body);
    if (field === undefined) return next();
    return c.json(errorBody('VALIDATION_FAILED', `${field}: contains a character that cannot be stored (U+0000 or an unpaired surrogate)`, [{ path: field.split('.'), message: 'unstorable character' }]), 400);
  };
}
