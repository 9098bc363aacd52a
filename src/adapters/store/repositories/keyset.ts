import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { KeysetPosition } from '../../../ports/store.js';

/** Rows strictly after `after` in an order newest first by (`at`, `id`); no condition without a position. */
export function olderThan(at: PgColumn, id: PgColumn, after: KeysetPosition | undefined): SQL | undefined {
  return after ? or(lt(at, after.at), and(eq(at, after.at), lt(id, after.id))) : undefined;
}
