import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { freshDatabase } from '../../../test/support/databases.js';
import { skipWithout } from '../../../test/support/services.js';
import { openDatabase } from './database.js';
import { PreparedNames } from './prepared-names.js';

describe('PreparedNames', () => {
  it('names a text from its second sight on, always the same name, distinct texts distinct names, and no more than the limit', () => {
    const names = new PreparedNames(2);
    expect(names.nameOf('select 1')).toBeUndefined();
    const first = names.nameOf('select 1');
    expect(first).toBeDefined();
    expect(names.nameOf('select 1')).toBe(first);
    names.nameOf('select 2');
    const second = names.nameOf('select 2');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    names.nameOf('select 3');
    expect(names.nameOf('select 3')).toBeUndefined();
    expect(names.nameOf('select 1')).toBe(first);
  });
});

describe.skipIf(skipWithout('databaseUrl'))('prepared statements on PostgreSQL', () => {
  const preparedOnTheConnection = async (preparedStatements: boolean) => {
    const fresh = await freshDatabase('postgres');
    const database = await openDatabase({ databaseUrl: fresh.url!, maxConnections: 1, preparedStatements });
    try {
      for (let i = 0; i < 3; i++) await database.query(sql`select count(*) from tenants where name = ${`t${i}`}`);
      const rows = await database.query<{ statement: string }>(sql`select statement from pg_prepared_statements`);
      return rows.map((row) => row.statement);
    } finally {
      await database.close();
      await fresh.drop();
    }
  };

  it('a statement sent again is prepared once on its connection, and not at all when turned off', async () => {
    expect(await preparedOnTheConnection(true)).toContainEqual(expect.stringContaining('from tenants where name = $1'));
    expect(await preparedOnTheConnection(false)).toEqual([]);
  });

  it('a prepared statement runs its generic plan from the first call (no custom plans first), and PostgreSQL decides when statements are not prepared', async () => {
    const planMode = async (preparedStatements: boolean) => {
      const fresh = await freshDatabase('postgres');
      const database = await openDatabase({ databaseUrl: fresh.url!, maxConnections: 2, preparedStatements });
      try {
        // Both connections of the pool, each asked while the other is held.
        const [a, b] = await Promise.all([0, 1].map(() => database.query<{ plan_cache_mode: string }>(sql`select current_setting('plan_cache_mode') as plan_cache_mode, pg_sleep(0.05)`)));
        return [a![0]!.plan_cache_mode, b![0]!.plan_cache_mode];
      } finally {
        await database.close();
        await fresh.drop();
      }
    };
    expect(await planMode(true)).toEqual(['force_generic_plan', 'force_generic_plan']);
    expect(await planMode(false)).toEqual(['auto', 'auto']);
  });
});
