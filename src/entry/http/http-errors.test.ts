import { describe, expect, it } from 'vitest';
import { SomaError } from '../../shared/errors.js';
import { STORAGE_FULL_RETRY_AFTER_S, toHttpError } from './http-errors.js';

describe('HTTP error catalogue', () => {
  it('answers a full disk with 507 STORAGE_FULL and Retry-After, never the driver text', () => {
    const cause = new Error('Failed query: insert into "turns" values ($1)\nparams: x', { cause: new Error('could not extend file "base/5/1": No space left on device') });
    const mapped = toHttpError(new SomaError('STORAGE_FULL', 'the database has no disk space left; nothing was written', { retryable: true, cause, details: { path: '/work/data/pglite' } }));
    expect(mapped.status).toBe(507);
    expect(mapped.headers).toEqual({ 'retry-after': String(STORAGE_FULL_RETRY_AFTER_S) });
    expect(mapped.body).toEqual({ error: { code: 'STORAGE_FULL', message: 'the database has no disk space left; nothing was written' } });
  });

  it('keeps other faults without Retry-After', () => {
    const mapped = toHttpError(new SomaError('DATABASE_UNAVAILABLE', 'the database cannot be reached'));
    expect(mapped.status).toBe(503);
    expect(mapped.headers).toBeUndefined();
  });
});
