import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/support/databases.js';
import { skipWithout } from '../../../test/support/services.js';
import { openDatabase, type Database } from './database.js';

describe.skipIf(skipWithout('databaseUrl'))('statements on PostgreSQL go out when asked', () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await freshDatabase('postgres');
    database = await openDatabase({ databaseUrl: fresh.url!, maxConnections: 2 });
    drop = async () => {
      await database.close();
      await fresh.drop();
    };
  });
  afterAll(async () => drop());

  it('hands an idle connection to a statement at once, not after the promise jobs queued behind it, and keeps the order of waiting requests', async () => {
    await database.run({ text: 'select 1', values: [] });
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0] as string | { text: string };
      sent.push(typeof q === 'string' ? q : q.text);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as never;
    try {
      const first = database.run<{ n: number }>({ text: 'select $1::int as n', values: [1] });
      // Sent before this synchronous code ends (the pool used to wait for the next tick).
      expect(sent).toEqual(['select $1::int as n']);
      // More statements than connections: each waits its turn in order and gets its own answer.
      const rest = [2, 3, 4, 5].map((n) => database.run<{ n: number }>({ text: 'select $1::int as n', values: [n] }));
      const inTransaction = database.db.transaction(async (tx) => ((await tx.execute(sql`select 6 as n`)) as unknown as { rows: unknown[] }).rows);
      expect((await first)[0]!.n).toBe(1);
      expect((await Promise.all(rest)).map((rows) => rows[0]!.n)).toEqual([2, 3, 4, 5]);
      expect(await inTransaction).toEqual([{ n: 6 }]);
    } finally {
      pg.Client.prototype.query = original;
    }
  });
});
