import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHttpError } from './http-errors.js';
import { requireAdmin, sameToken } from './auth.js';

const { timingSafeEqual } = vi.hoisted(() => ({ timingSafeEqual: { calls: [] as [number, number][] } }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqual.calls.push([a.byteLength, b.byteLength]);
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const token = 'operator-admin-token-0123456789';

afterEach(() => {
  timingSafeEqual.calls.length = 0;
});

describe('the admin token comparison', () => {
  it('accepts the token and refuses any other, whatever its length', () => {
    expect(sameToken(token, token)).toBe(true);
    for (const wrong of ['', 'o', token.slice(0, -1), `${token}x`, token.replace(/9$/, '8'), token.toUpperCase(), 'x'.repeat(10_000)]) {
      expect(sameToken(wrong, token)).toBe(false);
    }
    expect(sameToken(undefined, token)).toBe(false);
  });

  it('always compares two 32-byte digests in constant time: no early exit on a length mismatch or the first wrong character', () => {
    for (const given of [token, 'o', `${token}x`, token.replace(/^o/, 'x'), 'x'.repeat(10_000)]) sameToken(given, token);
    expect(timingSafeEqual.calls).toEqual(Array.from({ length: 5 }, () => [32, 32]));
  });

  it('guards /v1/admin/*: 401 for a wrong token, 403 when the admin API is off', async () => {
    const app = (adminToken: string | undefined) => {
      const hono = new Hono();
      hono.onError((err, c) => c.json(toHttpError(err).body, toHttpError(err).status));
      hono.use('*', requireAdmin(adminToken) as never);
      hono.get('/v1/admin/ping', (c) => c.text('pong'));
      return hono;
    };
    const call = async (adminToken: string | undefined, authorization?: string) => {
      const response = await app(adminToken).request('/v1/admin/ping', authorization ? { headers: { authorization } } : {});
      return [response.status, await response.text()];
    };
    expect(await call(token, `Bearer ${token}`)).toEqual([200, 'pong']);
    expect((await call(token, `Bearer ${token}x`))[0]).toBe(401);
    expect((await call(token, 'Bearer short'))[0]).toBe(401);
    expect((await call(token))[0]).toBe(401);
    expect((await call(undefined, `Bearer ${token}`))[0]).toBe(403);
  });
});
