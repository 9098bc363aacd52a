import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../shared/package-root.js';

/**
 * Memory settings of the embedded database: PostgreSQL's server defaults (128 MB shared buffers)
 * would triple the resident memory of an idle Soma; an embedded single-user database needs far less.
 */
export const pgliteSettings = ['shared_buffers = 16MB', 'work_mem = 4MB', 'maintenance_work_mem = 16MB', 'temp_buffers = 4MB', 'wal_buffers = 1MB', 'max_wal_size = 128MB', 'min_wal_size = 32MB'];

export const migrationsFolder = path.join(packageRoot(import.meta.url), 'migrations');

const initialising = new Map<string, Promise<void>>();

/**
 * Makes sure `dataDir` holds a PGlite cluster with the migrations applied, creating it when missing
 * (once per folder and process: callers share one run). This module imports nothing heavy, so the
 * CLI can start it before it loads the rest of the server, and the two overlap.
 */
export function ensurePgliteCluster(dataDir: string, { template = pgliteTemplateDir }: { template?: string } = {}): Promise<void> {
  let running = initialising.get(dataDir);
  if (!running) {
    running = (async () => {
      mkdirSync(dataDir, { recursive: true });
      if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
        if (templateUsable(template)) copyTemplate(template, dataDir);
        else await initPgliteCluster(dataDir);
      }
    })();
    initialising.set(dataDir, running);
    running.catch(() => initialising.delete(dataDir));
  }
  return running;
}

/**
 * Creates a new PGlite cluster and applies the migrations in a short-lived child process. initdb needs
 * several hundred MB of WebAssembly memory that a process can never give back; doing it in a child
 * keeps the server's resident memory at what serving needs. The child runs WebAssembly on V8's
 * baseline compiler only (`--liftoff-only`): optimising PostgreSQL's code for a one-off initdb costs
 * more than it saves (measured 6.6 → 3.9 s for initdb, peak RSS 1.1 → 0.57 GB, on 2 busy cores).
 */
async function initPgliteCluster(dataDir: string): Promise<void> {
  const resolve = (specifier: string) => JSON.stringify(import.meta.resolve(specifier));
  const script = [
    `const { PGlite } = await import(${resolve('@electric-sql/pglite')});`,
    `const { drizzle } = await import(${resolve('drizzle-orm/pglite')});`,
    `const { migrate } = await import(${resolve('drizzle-orm/pglite/migrator')});`,
    `const db = await PGlite.create({ dataDir: process.argv[1], postgresqlconf: ${JSON.stringify(pgliteSettings)} });`,
    `try { await migrate(drizzle(db), { migrationsFolder: process.argv[2] }); } finally { await db.close(); }`,
  ].join(' ');
  await promisify(execFile)(process.execPath, ['--liftoff-only', '--input-type=module', '-e', script, dataDir, migrationsFolder], { timeout: 120_000 });
}

/**
 * A migrated, empty cluster that `npm run build` makes (`dist/pglite-template`): a new data folder
 * starts as a copy of it (≈ 40 MB, a fraction of a second) instead of initdb (seconds). Migrations
 * added after the build are applied at start as on any existing folder; a template made by another
 * PGlite version is not used.
 */
export const pgliteTemplateDir = path.join(packageRoot(import.meta.url), 'dist', 'pglite-template');
const TEMPLATE_MARK = 'soma-template.json';

function pgliteVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

function templateUsable(template: string): boolean {
  try {
    const mark = JSON.parse(readFileSync(path.join(template, TEMPLATE_MARK), 'utf8')) as { pglite?: string };
    return mark.pglite === pgliteVersion() && existsSync(path.join(template, 'PG_VERSION'));
  } catch {
    return false;
  }
}

/** Copies the template into `dataDir`; `PG_VERSION` last, so an interrupted copy is not taken for a cluster. */
function copyTemplate(template: string, dataDir: string): void {
  const skip = new Set([path.join(template, TEMPLATE_MARK), path.join(template, 'PG_VERSION')]);
  cpSync(template, dataDir, { recursive: true, filter: (source) => !skip.has(source) });
  copyFileSync(path.join(template, 'PG_VERSION'), path.join(dataDir, 'PG_VERSION'));
}

/** Makes (or remakes) the template: initdb and the migrations in a fresh folder, then marked with PGlite's version. */
export async function createPgliteTemplate(target = pgliteTemplateDir): Promise<void> {
  const building = `${target}.tmp-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  try {
    await initPgliteCluster(building);
    writeFileSync(path.join(building, TEMPLATE_MARK), `${JSON.stringify({ pglite: pgliteVersion(), createdAt: new Date().toISOString() })}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(building, target);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}
