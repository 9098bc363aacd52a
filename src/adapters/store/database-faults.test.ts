import { describe, expect, it } from 'vitest';
import { SomaError } from '../../shared/errors.js';
import { asDatabaseFault, isConnectionFault, isStorageFull, mapDatabaseFaults } from './database-faults.js';

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

  // What PGlite throws through Drizzle when its folder's disk is full (seen on a full tmpfs).
  const diskFull = () =>
    new Error('Failed query: insert into "turns" ("id") values ($1)\nparams: 0190…', {
      cause: Object.assign(new Error('could not extend file "base/5/16941": No space left on device'), { code: '53100', severity: 'ERROR' }),
    });

  it('tells a full disk from other errors: SQLSTATE 53100, ENOSPC, through wrapped causes', () => {
    expect(isStorageFull(diskFull())).toBe(true);
    expect(isStorageFull(Object.assign(new Error('could not access status of transaction 0'), { code: '53100' }))).toBe(true);
    expect(isStorageFull(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe(true);
    expect(isStorageFull(new Error('could not write to file "pg_wal/xlogtemp.1": No space left on device'))).toBe(true);
    expect(isStorageFull(Object.assign(new Error('out of memory'), { code: '53200' }))).toBe(false);
    expect(isStorageFull(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isConnectionFault(diskFull())).toBe(false);
  });

  it('maps a full disk to STORAGE_FULL (retryable) with a message that carries no SQL, parameters or file names', async () => {
    const mapped = asDatabaseFault(diskFull());
    expect(mapped).toBeInstanceOf(SomaError);
    expect(mapped).toMatchObject({ code: 'STORAGE_FULL', retryable: true });
    expect((mapped as SomaError).message).not.toMatch(/insert|params|base\/|\$1/i);
    expect((mapped as SomaError).cause).toBeInstanceOf(Error);
    await expect(mapDatabaseFaults(() => Promise.reject(diskFull()))).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    const already = new SomaError('STORAGE_FULL', 'x');
    expect(asDatabaseFault(already)).toBe(already);
  });
});
