import { SomaError, isSomaError } from '../../shared/errors.js';

/** Node socket errors that mean the database cannot be reached. */
const socketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception),
 * 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now), 53300 (too many connections).
 */
const sqlStates = /^(08...|57P0[1-3]|53300)$/;
const messages = /connection terminated|timeout exceeded when trying to connect|connection error|cannot use a pool after calling end|client was closed|not queryable|socket hang up|terminating connection/i;

/** PostgreSQL's SQLSTATE of a foreign key violation. */
export const FOREIGN_KEY_VIOLATION = '23503';

/** The SQLSTATE of a driver error, looked for through its causes (drizzle wraps the driver's error). */
export function sqlStateOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== null && typeof current === 'object' && depth < 6; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a driver error means the database is unreachable right now (worth retrying later). */
export function isConnectionFault(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && current !== undefined && depth < 6; depth++) {
    if (isSomaError(current)) return current.code === 'DATABASE_UNAVAILABLE';
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (socketCodes.has(code) || sqlStates.test(code))) return true;
    if (typeof message === 'string' && messages.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** PostgreSQL's SQLSTATE `disk_full` (class 53, insufficient resources): PGlite reports ENOSPC of its folder with it too. */
export const DISK_FULL = '53100';
const diskFullMessage = /no space left on device|\bENOSPC\b/i;

/**
 * Whether a driver error means the database's disk is full: SQLSTATE 53100 ("could not extend file …:
 * No space left on device"), or an ENOSPC of the file system under it. PostgreSQL rolls the statement
 * back, so nothing was written, and the same connection works again once space is freed.
 */
export function isStorageFull(error: unknown): boolean {
  for (let current = error, depth = 0; current !== null && current !== undefined && depth < 6; depth++) {
    if (isSomaError(current)) return current.code === 'STORAGE_FULL';
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code === DISK_FULL || code === 'ENOSPC') return true;
    if (typeof message === 'string' && diskFullMessage.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Rethrows a full disk as `SomaError('STORAGE_FULL')` and an unreachable database as
 * `SomaError('DATABASE_UNAVAILABLE')` (both retryable, both with a message free of SQL and paths);
 * other errors as they are.
 */
export function asDatabaseFault(error: unknown): unknown {
  if (isSomaError(error)) return error;
  if (isStorageFull(error)) return new SomaError('STORAGE_FULL', 'the database has no disk space left; nothing was written', { retryable: true, cause: error });
  if (!isConnectionFault(error)) return error;
  return new SomaError('DATABASE_UNAVAILABLE', 'the database cannot be reached', { retryable: true, cause: error });
}

/** Runs `work`, turning an unreachable database into `DATABASE_UNAVAILABLE` and a full disk into `STORAGE_FULL`. */
export async function mapDatabaseFaults<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asDatabaseFault(error);
  }
}

/** The same object with every method's failures mapped by {@link mapDatabaseFaults}. */
export function withDatabaseFaults<T extends object>(target: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(target)) {
    wrapped[name] = typeof value === 'function' ? (...args: unknown[]) => mapDatabaseFaults(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) : value;
  }
  return wrapped as T;
}
