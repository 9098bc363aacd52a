import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { ensurePgliteCluster, migrationsFolder } from './pglite-cluster.js';

describe('creating the embedded cluster in a child process', () => {
  it('leaves a migrated cluster, created once however many callers ask at the same time', async () => {
    const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'soma-cluster-')), 'pglite');
    const first = ensurePgliteCluster(dataDir);
    expect(ensurePgliteCluster(dataDir)).toBe(first);
    await first;
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    const db = await PGlite.create({ dataDir });
    try {
      const applied = await db.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
      expect(applied.rows[0]!.n).toBe(readdirSync(migrationsFolder).filter((f) => f.endsWith('.sql')).length);
      const tables = await db.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_name in ('turns', 'rlm_iterations', 'outbox_messages')");
      expect(tables.rows[0]!.n).toBe(3);
    } finally {
      await db.close();
    }
    await ensurePgliteCluster(dataDir); // an existing cluster is left alone
  }, 120_000);
});
