/**
 * Recall at scale (SPEC §13.2): 100,000 memories in one scope, recalled through the brain's own
 * `recall` (its bounded candidates: the newest few, the window's best matches, older matches of every
 * word through the GIN index or a bounded walk; then the recall maths),
 * p50/p95 over 300 queries, on in-memory PGlite and — with `DATABASE_URL` — on PostgreSQL.
 * Bar: p95 < 20 ms. `BENCH_MEMORIES` overrides the count.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createLocalBrain } from '../src/adapters/brain/index.js';
import { openDatabase, tables, type Database } from '../src/adapters/store/index.js';
import { defaultLearnedState } from '../src/core/learning/index.js';

const MEMORIES = Number(process.env.BENCH_MEMORIES ?? 100_000);
const QUERIES = 300;
const words = ['office', 'wifi', 'password', 'billing', 'contact', 'email', 'staging', 'database', 'host', 'release', 'branch', 'phone', 'vpn', 'gateway', 'payroll', 'support', 'queue', 'backup', 'bucket', 'region', 'design', 'review', 'room', 'customer', 'lead', 'rate', 'limit', 'invoice', 'prefix', 'parking', 'garage', 'printer', 'incident', 'channel', 'license', 'server', 'port', 'travel', 'portal', 'cafeteria', 'badge', 'security', 'deploy', 'budget', 'laptop', 'monitor', 'desk', 'meeting', 'calendar', 'holiday'];

async function run(label: string, database: Database): Promise<{ label: string; p50: number; p95: number; candidates: number }> {
  const tenantId = randomUUID();
  const capsuleId = randomUUID();
  const state = defaultLearnedState();
  await database.db.insert(tables.tenants).values({ id: tenantId, name: 'recall bench' });
  await database.db.insert(tables.capsules).values({ id: capsuleId, tenantId, name: 'recall', systemPrompt: 's', learningConfig: { memory_limit: 1_000_000 }, learnedWeights: state.weights, neuromodulatorState: state.neuromodulators, rewardBaseline: 1 });
  const userId = 'user_bench';
  // Question-and-answer notes of 3 topic words each over a 50-word vocabulary, one per minute back in time.
  const n = words.length;
  const list = sql.raw(`array[${words.map((w) => `'${w}'`).join(',')}]::text[]`);
  const size = sql.raw(String(n));
  const t0 = Date.now();
  for (let from = 0; from < MEMORIES; from += 10_000) {
    const to = Math.min(MEMORIES, from + 10_000) - 1;
    await database.db.execute(sql`
      insert into memories (id, tenant_id, capsule_id, user_id, key, content, importance, created_at)
      select gen_random_uuid(), ${tenantId}, ${capsuleId}, ${userId}, 'turn:' || i,
        'Q: what about the ' || (${list})[1 + (i * 7) % ${size}] || ' ' || (${list})[1 + (i * 13) % ${size}] || ' ' || (${list})[1 + (i * 31) % ${size}] || '?' || chr(10) ||
        'A: the ' || (${list})[1 + (i * 7) % ${size}] || ' ' || (${list})[1 + (i * 13) % ${size}] || ' is number ' || i,
        ((i * 37) % 100) / 100.0, now() - make_interval(mins => i)
      from generate_series(${sql.raw(String(from))}, ${sql.raw(String(to))}) as i`);
  }
  const loadSeconds = (Date.now() - t0) / 1000;
  await database.db.execute(sql`analyze memories`);
  const brain = createLocalBrain({ database });
  const scope = { tenantId, capsuleId, userId };
  const samples: number[] = [];
  let candidates = 0;
  for (let q = 0; q < QUERIES + 20; q += 1) {
    const query = `What is the ${words[(q * 7) % n]} ${words[(q * 11) % n]} ${words[(q * 17) % n]}?`;
    const start = process.hrtime.bigint();
    const results = await brain.recall(scope, { query, top_k: 16, seed: q });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (q >= 20) samples.push(ms);
    candidates = Math.max(candidates, results.length);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))]!;
  console.log(`  ${label}: ${MEMORIES.toLocaleString('en')} memories loaded in ${loadSeconds.toFixed(1)} s`);
  return { label, p50: at(0.5), p95: at(0.95), candidates };
}

const rows = [];
const pglite = await openDatabase({ dataDir: 'memory://' });
await pglite.migrate();
rows.push(await run('PGlite (in memory)', pglite));
await pglite.close();
if (process.env.DATABASE_URL) {
  const postgres = await openDatabase({ databaseUrl: process.env.DATABASE_URL });
  await postgres.migrate();
  rows.push(await run('PostgreSQL', postgres));
  await postgres.db.execute(sql`delete from memories where key like 'turn:%' and user_id = 'user_bench'`);
  await postgres.close();
} else {
  console.log('  PostgreSQL: skipped (set DATABASE_URL)');
}
console.log(`\nrecall at ${MEMORIES.toLocaleString('en')} memories in one scope, ${QUERIES} queries, top_k 16 (bar: p95 < 20 ms)`);
console.log('driver             | p50 ms | p95 ms | pass');
for (const row of rows) console.log(`${row.label.padEnd(18)} | ${row.p50.toFixed(2).padStart(6)} | ${row.p95.toFixed(2).padStart(6)} | ${row.p95 < 20 ? 'yes' : 'no'}`);
process.exitCode = rows.every((row) => row.p95 < 20) ? 0 : 1;
