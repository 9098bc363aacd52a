/**
 * `npm run bench:fairness` (issue 14): T tenants × C concurrent clients for S seconds against a real
 * `soma serve` (scripted zero-latency model, 3-iteration turns), on the embedded PGlite and — with
 * DATABASE_URL — on PostgreSQL. Prints turns per tenant, their spread (max/min) and turn latency
 * p50/p99 per driver, and the PGlite/PostgreSQL p99 ratio (the bar: within 3×).
 *   node --import tsx bench/fairness.ts [--tenants 5] [--clients 10] [--seconds 30]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchScript, ITERATIONS_PER_TURN } from './peer/soma.js';
import { api, BENCH_ADMIN_TOKEN, freshPostgres, percentile, startServer } from './support/server.js';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '5' }, clients: { type: 'string', default: '10' }, seconds: { type: 'string', default: '30' } } });
const TENANTS = Number(values.tenants);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);

interface DriverResult {
  driver: string;
  turns_per_tenant: number[];
  spread: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

async function measure(driver: 'pglite' | 'postgres'): Promise<DriverResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-fairness-'));
  const scriptFile = path.join(dir, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(benchScript));
  const database = driver === 'postgres' ? await freshPostgres(process.env.DATABASE_URL!) : undefined;
  const server = await startServer({
    SOMA_DATA_DIR: dir,
    DATABASE_URL: database?.url ?? '',
    SOMA_MODEL: `scripted:${scriptFile}`,
    SA01_RLM_MAX_ITERATIONS: String(ITERATIONS_PER_TURN),
    SOMA_TENANT_TURNS_PER_MINUTE: '1000000',
  });
  try {
    const tenants = [];
    for (let t = 0; t < TENANTS; t++) {
      const { api_key: key } = await api<{ api_key: string }>(server.url, 'POST', '/v1/admin/tenants', BENCH_ADMIN_TOKEN, { name: `tenant-${t}` });
      const { id: capsule } = await api<{ id: string }>(server.url, 'POST', '/v1/capsules', key, { name: 'bench', system_prompt: 'You are a benchmark.' });
      const conversations: string[] = [];
      for (let c = 0; c < CLIENTS; c++) conversations.push((await api<{ id: string }>(server.url, 'POST', '/v1/conversations', key, { capsule_id: capsule })).id);
      tenants.push({ key, conversations, turns: 0 });
    }
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      tenants.flatMap((tenant) =>
        tenant.conversations.map(async (conversation, c) => {
          for (let n = 0; performance.now() < end; n++) {
            const started = performance.now();
            try {
              await api(server.url, 'POST', `/v1/conversations/${conversation}/messages`, tenant.key, { content: `client ${c} question ${n}` });
              latencies.push(performance.now() - started);
              tenant.turns++;
            } catch {
              errors++;
            }
          }
        }),
      ),
    );
    latencies.sort((a, b) => a - b);
    const counts = tenants.map((t) => t.turns);
    return {
      driver,
      turns_per_tenant: counts,
      spread: Math.max(...counts) / Math.max(1, Math.min(...counts)),
      p50_ms: Math.round(percentile(latencies, 50)),
      p99_ms: Math.round(percentile(latencies, 99)),
      errors,
    };
  } finally {
    await server.stop();
    await database?.drop();
  }
}

const results: DriverResult[] = [await measure('pglite')];
if (process.env.DATABASE_URL) results.push(await measure('postgres'));
else console.log('(PostgreSQL skipped: set DATABASE_URL)');

console.log(`\n${TENANTS} tenants × ${CLIENTS} clients for ${SECONDS} s, ${ITERATIONS_PER_TURN}-iteration turns, scripted zero-latency model`);
console.log('| driver | turns per tenant | max/min | p50 ms | p99 ms | errors |');
console.log('|---|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.driver} | ${r.turns_per_tenant.join(', ')} | ${r.spread.toFixed(2)} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors} |`);
const [pglite, postgres] = results;
if (pglite && postgres) console.log(`p99 PGlite / PostgreSQL: ${(pglite.p99_ms / postgres.p99_ms).toFixed(2)} (bar: ≤ 3)`);
console.log(JSON.stringify({ bench: 'fairness', tenants: TENANTS, clients: CLIENTS, seconds: SECONDS, results }));
