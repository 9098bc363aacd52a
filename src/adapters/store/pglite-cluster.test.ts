import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { createPgliteTemplate, ensurePgliteCluster, migrationsFolder } from './pglite-cluster.js';

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

  it('starts a new data folder as a copy of the template the build makes, and ignores a template of another PGlite version', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'soma-template-'));
    const template = path.join(root, 'template');
    await createPgliteTemplate(template);
    // A probe table marks what came from this template.
    const probe = await PGlite.create({ dataDir: template });
    await probe.exec('create table template_probe (id int)');
    await probe.close();
    const tablesOf = async (dataDir: string) => {
      const db = await PGlite.create({ dataDir });
      try {
        return (await db.query<{ table_name: string }>("select table_name from information_schema.tables where table_name in ('template_probe', 'turns') order by 1")).rows.map((r) => r.table_name);
      } finally {
        await db.close();
      }
    };
    const copied = path.join(root, 'copied');
    await ensurePgliteCluster(copied, { template });
    expect(await tablesOf(copied)).toEqual(['template_probe', 'turns']);
    expect(existsSync(path.join(copied, 'soma-template.json'))).toBe(false);

    const mark = path.join(template, 'soma-template.json');
    writeFileSync(mark, JSON.stringify({ ...JSON.parse(readFileSync(mark, 'utf8')), pglite: '0.0.1' }));
    const initialised = path.join(root, 'initialised');
    await ensurePgliteCluster(initialised, { template });
    expect(await tablesOf(initialised)).toEqual(['turns']);
  }, 180_000);
});
