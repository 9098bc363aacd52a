import type { KeysetPosition } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';

/** Opaque keyset cursor over (created_at, id) of a list ordered newest first. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** The position a cursor of {@link encodeCursor} names; VALIDATION_FAILED for anything else. */
export function decodeCursor(cursor: string): Result<KeysetPosition, Failure> {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(at);
    if (typeof id === 'string' && !Number.isNaN(date.getTime())) return ok({ at: date, id });
  } catch {
    // not base64url JSON: the refusal below
  }
  return refuse('VALIDATION_FAILED', 'cursor is not valid');
}

/** One page of a list read with `limit + 1` rows: the page and the cursor of the next one (null on the last). */
export function pageOf<T>(rows: T[], limit: number, positionOf: (row: T) => KeysetPosition): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  if (rows.length <= limit || !last) return { page, nextCursor: null };
  const { at, id } = positionOf(last);
  return { page, nextCursor: encodeCursor(at, id) };
}
