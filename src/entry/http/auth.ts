import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Caller } from '../../app/context.js';
import type { Failure } from '../../shared/errors.js';
import { SomaError } from '../../shared/errors.js';
import type { Result } from '../../shared/result.js';
import { runAsOwner } from '../../shared/work-owner.js';
import { bearerToken } from './bearer-token.js';
import { unwrap } from './http-errors.js';
import type { Env } from './openapi.js';

/** Resolves an API key to its caller (the `authenticate` use case). */
export type Authenticate = (apiKey: string) => Promise<Result<Caller, Failure>>;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * Whether a presented token is the expected one, in constant time: both are hashed to 32 bytes and
 * compared with `timingSafeEqual`, so neither the position of the first wrong character nor the
 * token's length shows in the time the comparison takes.
 */
export function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** `/v1/admin/*`: the operator's `SOMA_ADMIN_TOKEN`; the admin API is off without one. */
export function requireAdmin(adminToken: string | undefined): MiddlewareHandler<Env> {
  return async (c, next) => {
    if (!adminToken) throw new SomaError('FORBIDDEN', 'the admin API is disabled (set SOMA_ADMIN_TOKEN)');
    if (!sameToken(bearerToken(c.req.header('authorization')), adminToken)) throw new SomaError('UNAUTHORIZED', 'invalid admin token');
    await next();
  };
}

/** A tenant API key; sets `auth` to its caller. */
export function requireApiKey(authenticate: Authenticate): MiddlewareHandler<Env> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new SomaError('UNAUTHORIZED', 'missing Authorization: Bearer <api key>');
    const caller = unwrap(await authenticate(token));
    c.set('auth', caller);
    // The request's work is the tenant's: the embedded database serves tenants in turn.
    await runAsOwner(caller.tenantId, next);
  };
}

/**
 * The brain server's callers: a tenant API key, or — for a Soma server using this brain through
 * `SOMA_BRAIN_URL` — the shared `SOMA_ADMIN_TOKEN` plus `x-soma-tenant` naming the tenant it acts for.
 */
export function requireServiceOrApiKey(adminToken: string | undefined, authenticate: Authenticate): MiddlewareHandler<Env> {
  const byApiKey = requireApiKey(authenticate);
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!adminToken || !sameToken(token, adminToken)) return byApiKey(c, next);
    const tenantId = c.req.header('x-soma-tenant');
    if (!tenantId) throw new SomaError('BAD_REQUEST', 'service calls must name the tenant in x-soma-tenant');
    c.set('auth', { tenantId, userId: 'soma-service' });
    await runAsOwner(tenantId, next);
  };
}
