import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

describe('embedded database upkeep (PGlite has no autovacuum)', () => {
  it('vacuums and analyses a table once it has grown by a fifth, and leaves it alone until it grows again', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    try {
      await database.migrate();
      await database.query(sql`create table filler (id int primary key, pad text)`);
      const fill = (from: number, to: number) => database.query(sql`insert into filler select g, repeat('x', 400) from generate_series(${from}::int, ${to}::int) g`);
      const known = async () => Number((await database.query<{ n: number }>(sql`select reltuples::int as n from pg_class where relname = 'filler'`))[0]!.n);
      await fill(1, 5_000);
      expect(await known()).toBeLessThan(0); // never analysed: the planner would guess
      expect((await database.upkeep!()).vacuumed).toContain('filler');
      expect(await known()).toBe(5_000);
      expect((await database.upkeep!()).vacuumed).toEqual([]);
      await database.query(sql`update filler set pad = repeat('y', 400) where id <= 2000`); // dead versions grow the table
      expect((await database.upkeep!()).vacuumed).toEqual(['filler']);
      // The statistics sample setting does not leak into the session.
      expect((await database.query<{ v: string }>(sql`select current_setting('default_statistics_target') as v`))[0]!.v).toBe('100');
    } finally {
      await database.close();
    }
  });

  it('checkpoints once the WAL outgrows max_wal_size (128 MB), so its segments are recycled', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    const walBytes = async () => Number((await database.query<{ bytes: string }>(sql`select coalesce(sum(size), 0)::bigint as bytes from pg_ls_waldir()`))[0]!.bytes);
    try {
      await database.query(sql`create table filler (id int, pad text)`);
      expect((await database.upkeep!()).checkpointed).toBe(false);
      for (let i = 0; i < 16; i++) await database.query(sql`insert into filler select g, repeat('x', 1000) from generate_series(1, 10000) g`);
      const before = await walBytes();
      expect(before).toBeGreaterThan(128 * 1024 * 1024);
      expect((await database.upkeep!()).checkpointed).toBe(true);
      await database.query(sql`insert into filler select g, repeat('x', 1000) from generate_series(1, 1000) g`);
      expect(await walBytes()).toBeLessThan(before);
    } finally {
      await database.close();
    }
  }, 120_000);
});
