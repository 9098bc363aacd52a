import type { KeysetPosition } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';

/**
 * The keyset cursor of a list ordered newest first: `<created_at in epoch ms>.<id>`. The format is a
 * pattern the OpenAPI publishes ({@link KEYSET_CURSOR_PATTERN}), so every cursor that matches it is a
 * position the database can hold (at most 14 digits: before the year 5139; a lower-case UUID).
 */
export const KEYSET_CURSOR_PATTERN = '^[0-9]{1,14}\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const keysetCursor = new RegExp(KEYSET_CURSOR_PATTERN);

/** The cursor of the position (created_at, id). */
export function encodeCursor(at: Date, id: string): string {
  return `${at.getTime()}.${id.toLowerCase()}`;
}

/**
 * The position a cursor names; VALIDATION_FAILED for anything that does not match the pattern (a
 * crafted base64 cursor, a negative or out-of-range date, an id that is not a UUID) — none of it
 * reaches the database.
 */
export function decodeCursor(cursor: string): Result<KeysetPosition, Failure> {
  if (!keysetCursor.test(cursor)) return refuse('VALIDATION_FAILED', 'cursor is not valid: pass the next_cursor of a previous page unchanged');
  const dot = cursor.indexOf('.');
  return ok({ at: new Date(Number(cursor.slice(0, dot))), id: cursor.slice(dot + 1) });
}

/** One page of a list read with `limit + 1` rows: the page and the cursor of the next one (null on the last). */
export function pageOf<T>(rows: T[], limit: number, positionOf: (row: T) => KeysetPosition): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  if (rows.length <= limit || !last) return { page, nextCursor: null };
  const { at, id } = positionOf(last);
  return { page, nextCursor: encodeCursor(at, id) };
}
