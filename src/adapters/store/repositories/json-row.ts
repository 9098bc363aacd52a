import { getTableColumns, type Table } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/**
 * A row that PostgreSQL sent as JSON (`row_to_json`, `json_agg`: several tables' rows in one
 * statement) as Drizzle would have returned it from a select of the table: each column under its key,
 * through the column's own mapping from the driver (timestamps from their ISO text to dates, bigints
 * to numbers, jsonb as parsed).
 */
export function fromJsonRow<T extends Table>(table: T, json: Record<string, unknown>): T['$inferSelect'] {
  const row: Record<string, unknown> = {};
  for (const [key, column] of columnsOf(table)) {
    const value = json[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as T['$inferSelect'];
}

const columns = new WeakMap<Table, Array<[string, PgColumn]>>();

/** A table's columns as `[key, column]` in table order, listed once per table. */
export function columnsOf(table: Table): Array<[string, PgColumn]> {
  let list = columns.get(table);
  if (!list) columns.set(table, (list = Object.entries(getTableColumns(table)) as Array<[string, PgColumn]>));
  return list;
}
