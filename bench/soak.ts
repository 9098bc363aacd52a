/**
 * `npm run bench:soak` (issue 14): many turns through the real HTTP app in process (auth, routes,
 * the turn path, learning, outbox), scripted zero-latency model, 3-iteration turns, 10 turns per
 * conversation, 4 clients at once. Every checkpoint (default 1,000 turns) prints RSS and heap after a
 * full GC, the p95 turn latency of that window and the database size. Exits 1 when RSS keeps growing.
 *
 *   node --expose-gc --import tsx bench/soak.ts [--turns 10000] [--every 1000] [--quick] [--driver pglite|postgres]
 *
 * `--quick` = 2,000 turns, a checkpoint every 200. `--driver postgres` needs DATABASE_URL.
 *
 * The growth criterion: over the second half of the run, the least-squares slope of RSS (after GC)
 * across its checkpoints must stay under 2 MB per 1,000 turns, or the RSS at the last checkpoint must
 * be no higher than the highest RSS of the first half (a plateau that was already reached).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createSoma } from '../src/main.js';
import { openDatabase } from '../src/adapters/store/index.js';
import { benchScript, ITERATIONS_PER_TURN } from './peer/soma.js';
import { freshPostgres, percentile } from './support/server.js';

const { values } = parseArgs({
  options: { turns: { type: 'string' }, every: { type: 'string' }, quick: { type: 'boolean', default: false }, driver: { type: 'string', default: 'pglite' }, clients: { type: 'string', default: '4' } },
});
const TURNS = Number(values.turns ?? (values.quick ? 2_000 : 10_000));
const EVERY = Number(values.every ?? (values.quick ? 200 : 1_000));
const CLIENTS = Number(values.clients);
const TURNS_PER_CONVERSATION = 10;
const SLOPE_LIMIT_MB_PER_1000 = 2;
const driver = values.driver === 'postgres' ? 'postgres' : 'pglite';
if (driver === 'postgres' && !process.env.DATABASE_URL) throw new Error('--driver postgres needs DATABASE_URL');

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:soak does)');

const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-soak-'));
const scriptFile = path.join(dir, 'script.json');
writeFileSync(scriptFile, JSON.stringify(benchScript));
const postgres = driver === 'postgres' ? await freshPostgres(process.env.DATABASE_URL!) : undefined;
const pgliteDir = path.join(dir, 'pglite');
const database = await openDatabase({ databaseUrl: postgres?.url, dataDir: postgres ? undefined : pgliteDir });
await database.migrate();
const config = loadConfig({
  SOMA_DATA_DIR: dir,
  SOMA_MODEL: `scripted:${scriptFile}`,
  SA01_RLM_MAX_ITERATIONS: String(ITERATIONS_PER_TURN),
  SA01_RLM_CONVERGENCE_THRESHOLD: '0.9',
  SOMA_ADMIN_TOKEN: 'soak-admin-token-0123456789',
  SOMA_LOG_LEVEL: 'silent',
  SOMA_TENANT_TURNS_PER_MINUTE: '0', // unlimited
});
const soma = await createSoma({ config, database, logger: pino({ level: 'silent' }) });

const call = async <T>(method: string, route: string, token: string, body?: unknown): Promise<T> => {
  const response = await soma.app.request(route, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
};

const databaseBytes = async (): Promise<number> => {
  if (postgres) return Number((await database.query<{ size: string }>(sql`select pg_database_size(current_database())::text as size`))[0]!.size);
  return Number(execFileSync('du', ['-sb', pgliteDir]).toString().split('\t')[0]);
};

const { api_key: key } = await call<{ api_key: string }>('POST', '/v1/admin/tenants', 'soak-admin-token-0123456789', { name: 'soak' });
const { id: capsule } = await call<{ id: string }>('POST', '/v1/capsules', key, { name: 'soak', system_prompt: 'You are a benchmark.' });

interface Checkpoint {
  turns: number;
  rss_mb: number;
  heap_mb: number;
  p95_ms: number;
  db_mb: number;
  errors: number;
}
const checkpoints: Checkpoint[] = [];
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
let window: number[] = [];
let errors = 0;
let started = 0;

async function checkpoint(turns: number) {
  gc!();
  await new Promise((resolve) => setImmediate(resolve));
  gc!();
  const memory = process.memoryUsage();
  window.sort((a, b) => a - b);
  const row = { turns, rss_mb: mb(memory.rss), heap_mb: mb(memory.heapUsed), p95_ms: window.length ? Math.round(percentile(window, 95) * 10) / 10 : 0, db_mb: mb(await databaseBytes()), errors };
  checkpoints.push(row);
  console.log(`| ${row.turns} | ${row.rss_mb} | ${row.heap_mb} | ${row.p95_ms} | ${row.db_mb} | ${row.errors} |`);
  window = [];
}

console.log(`soak: ${TURNS} turns on ${driver}, ${CLIENTS} clients, ${ITERATIONS_PER_TURN}-iteration turns, checkpoint every ${EVERY}`);
console.log('| turns | RSS MB | heap MB | p95 ms | DB MB | errors |');
console.log('|---|---|---|---|---|---|');
await checkpoint(0);
let done = 0;
let nextCheckpoint = EVERY;
let pausing: Promise<void> | undefined;
await Promise.all(
  Array.from({ length: CLIENTS }, async () => {
    let conversation = '';
    let inConversation = TURNS_PER_CONVERSATION;
    while (started < TURNS) {
      if (pausing) await pausing;
      if (started >= nextCheckpoint) {
        // The last turn of this window is still running elsewhere: wait for the checkpoint.
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      started++;
      if (inConversation >= TURNS_PER_CONVERSATION) {
        conversation = (await call<{ id: string }>('POST', '/v1/conversations', key, { capsule_id: capsule })).id;
        inConversation = 0;
      }
      inConversation++;
      const begin = performance.now();
      try {
        await call('POST', `/v1/conversations/${conversation}/messages`, key, { content: `soak turn ${started}` });
        window.push(performance.now() - begin);
      } catch {
        errors++;
      }
      done++;
      if (done === nextCheckpoint) {
        let release!: () => void;
        pausing = new Promise((resolve) => (release = resolve));
        await checkpoint(done);
        nextCheckpoint += EVERY;
        pausing = undefined;
        release();
      }
    }
  }),
);

await soma.close();
await database.close().catch(() => undefined);
await postgres?.drop();

// Growth over the second half: slope of RSS per 1,000 turns (least squares).
const half = checkpoints.filter((c) => c.turns >= TURNS / 2);
const firstHalfPeak = Math.max(...checkpoints.filter((c) => c.turns > 0 && c.turns < TURNS / 2).map((c) => c.rss_mb), 0);
const n = half.length;
const meanX = half.reduce((s, c) => s + c.turns, 0) / n;
const meanY = half.reduce((s, c) => s + c.rss_mb, 0) / n;
const slope = (half.reduce((s, c) => s + (c.turns - meanX) * (c.rss_mb - meanY), 0) / Math.max(1e-9, half.reduce((s, c) => s + (c.turns - meanX) ** 2, 0))) * 1000;
const last = checkpoints[checkpoints.length - 1]!;
const growing = slope > SLOPE_LIMIT_MB_PER_1000 && last.rss_mb > firstHalfPeak;
console.log(
  `RSS slope over the second half: ${slope.toFixed(2)} MB per 1,000 turns (limit ${SLOPE_LIMIT_MB_PER_1000}); last ${last.rss_mb} MB, first-half peak ${firstHalfPeak} MB → ${growing ? 'RSS KEEPS GROWING' : 'stable'}`,
);
console.log(JSON.stringify({ bench: 'soak', driver, turns: TURNS, every: EVERY, clients: CLIENTS, slope_mb_per_1000: Math.round(slope * 100) / 100, growing, errors, checkpoints }));
process.exitCode = growing || errors > 0 ? 1 : 0;
