import { describe, expect, it } from 'vitest';
import { SomaError } from '../../shared/errors.js';
import { asDatabaseFault, isConnectionFault } from './database-faults.js';

describe('database faults', () => {
  it('tells an unreachable database from other errors, through wrapped causes', () => {
    expect(isConnectionFault(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionFault(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionFault(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionFault(new Error('Failed query', { cause: Object.assign(new Error('x'), { code: '08006' }) }))).toBe(true);
    expect(isConnectionFault(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(false);
    expect(isConnectionFault(new Error('syntax error'))).toBe(false);
  });

  it('maps an unreachable database to DATABASE_UNAVAILABLE (retryable), leaving other errors alone', () => {
    const mapped = asDatabaseFault(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(mapped).toBeInstanceOf(SomaError);
    expect(mapped).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    const other = new Error('boom');
    expect(asDatabaseFault(other)).toBe(other);
  });
});
