/**
 * Benchmark of the brain over HTTP (SPEC §10): `node --import tsx bench/brain-http.ts`.
 *
 * Serves the brain routes (`brainRoutes` over the in-process brain) on a loopback port; a child
 * process (this file with `--load`) sends `POST /v1/learning/publish_turn_metrics` through the HTTP
 * brain client at a fixed rate (open loop:
 * each request leaves at its scheduled time, whether or not earlier ones have answered), spread over
 * several capsules. Bounded: RATE × SECONDS requests, loopback only. The database is in-memory PGlite,
 * or PostgreSQL with `DATABASE_URL` (a fresh database is created there and dropped at the end).
 * The auth in front of the routes is the test app's (bearer = tenant id), not the API-key lookup.
 *
 * Also measures the in-process brain (`createLocalBrain().publishTurnMetrics`: lock, step, append,
 * commit) without HTTP. Exits non-zero when the HTTP p95 is ≥ 50 ms or requests failed.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { createHttpBrain, createLocalBrain } from '../src/adapters/brain/index.js';
import { insertTenantWithCapsule } from '../test/support/capsules.js';
import { createPostgresDatabase } from '../test/support/databases.js';
import { openDatabase, type Database } from '../src/adapters/store/index.js';
import { brainRoutes } from '../src/entry/http/index.js';
import { createBrainTestApp } from '../test/support/brain-test-app.js';
import type { PublishTurnMetricsRequest } from '../src/ports/brain.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CAPSULES = 20;
const IN_PROCESS_STEPS = 2_000;
const BAR_P95_MS = 50;

async function open(): Promise<{ database: Database; label: string; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    return { database, label: 'PGlite (in memory)', drop: () => database.close() };
  }
  const created = await createPostgresDatabase(url, 'soma_bench');
  const database = await openDatabase({ databaseUrl: created.url });
  await database.migrate();
  return {
    database,
    label: 'PostgreSQL',
    drop: async () => {
      await database.close();
      await created.drop();
    },
  };
}

function request(scope: { tenantId: string; capsuleId: string }, i: number): PublishTurnMetricsRequest {
  return {
    capsule_id: scope.capsuleId,
    tenant: scope.tenantId,
    turn_id: randomUUID(),
    iteration_number: i % 4,
    tools_used: i % 3 === 0 ? ['calculator'] : [],
    confidence: ((i * 37) % 100) / 100,
    convergence_score: ((i * 11) % 100) / 100,
    tool_success_rate: 1,
    latency_ms: 500 + ((i * 97) % 4000),
    prompt_tokens: 1000 + ((i * 13) % 3000),
    completion_tokens: 100 + (i % 300),
    novelty: ((i * 53) % 100) / 100,
    seed: i,
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const f = (x: number): string => x.toFixed(2);

interface LoadReport {
  latencies: number[];
  failures: number;
  maxLag: number;
  elapsed: number;
  errors: string[];
}

/** The load generator (child process): RATE × SECONDS requests, open loop, over the HTTP brain client. */
async function generateLoad(port: number, scopes: { tenantId: string; capsuleId: string }[]): Promise<LoadReport> {
  const clients = scopes.map((scope) => ({ scope, brain: createHttpBrain({ url: `http://127.0.0.1:${port}`, apiKey: scope.tenantId, timeoutMs: 2_000 }) }));
  // Warm-up (connections, JIT), not measured.
  await Promise.all(clients.map(({ scope, brain }, i) => brain.publishTurnMetrics(request(scope, 1_000_000 + i))));
  const total = RATE * SECONDS;
  const latencies: number[] = [];
  const errors: string[] = [];
  let failures = 0;
  let maxLag = 0;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLag = Math.max(maxLag, performance.now() - due);
    const { scope, brain } = clients[i % scopes.length]!;
    const t0 = performance.now();
    inflight.push(
      brain.publishTurnMetrics(request(scope, i)).then(
        () => {
          latencies.push(performance.now() - t0);
        },
        (error: Error) => {
          failures += 1;
          if (errors.length < 3) errors.push(error.message);
        },
      ),
    );
  }
  await Promise.all(inflight);
  return { latencies, failures, maxLag, elapsed: (performance.now() - started) / 1000, errors };
}

function loadFromChild(port: number, scopes: { tenantId: string; capsuleId: string }[]): Promise<LoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--load', String(port), JSON.stringify(scopes)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadReport) : reject(new Error(`load generator exited with ${code}`))));
  });
}

if (process.argv[2] === '--load') {
  const report = await generateLoad(Number(process.argv[3]), JSON.parse(process.argv[4]!) as { tenantId: string; capsuleId: string }[]);
  process.stdout.write(JSON.stringify(report));
} else {
  await main();
}

async function main(): Promise<void> {
const { database, label, drop } = await open();
let server: ServerType | undefined;
try {
  const scopes = await Promise.all(Array.from({ length: CAPSULES }, () => insertTenantWithCapsule(database)));
  const local = createLocalBrain({ database });

  // In process: one step after another, lock + pure step + append + commit.
  const inProcess: number[] = [];
  for (let i = 0; i < IN_PROCESS_STEPS; i += 1) {
    const t0 = performance.now();
    await local.publishTurnMetrics(request(scopes[i % CAPSULES]!, i));
    inProcess.push(performance.now() - t0);
  }
  inProcess.sort((a, b) => a - b);

  const app = createBrainTestApp(brainRoutes({ brain: local }));
  server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const total = RATE * SECONDS;
  const { latencies, failures, maxLag, elapsed, errors } = await loadFromChild(port, scopes);
  latencies.sort((a, b) => a - b);

  const history = await database.query<{ n: number }>(
    (await import('drizzle-orm')).sql`select count(*)::int as n from learning_updates`,
  );
  console.log(`brain benchmark on ${label}, ${CAPSULES} capsules\n`);
  console.log(
    `in process publishTurnMetrics (lock, step, append, commit), ${IN_PROCESS_STEPS} sequential steps: ` +
      `p50 ${f(percentile(inProcess, 0.5))} ms, p95 ${f(percentile(inProcess, 0.95))} ms, p99 ${f(percentile(inProcess, 0.99))} ms ` +
      `(the pure step alone: npm run bench:learning)`,
  );
  console.log(
    `HTTP publish_turn_metrics at ${RATE} req/s for ${SECONDS} s (${total} requests, achieved ${f(total / elapsed)} req/s, scheduler lag max ${f(maxLag)} ms): ` +
      `p50 ${f(percentile(latencies, 0.5))} ms, p95 ${f(percentile(latencies, 0.95))} ms, p99 ${f(percentile(latencies, 0.99))} ms, max ${f(latencies.at(-1) ?? 0)} ms, failed ${failures}` +
      (errors.length > 0 ? ` (${errors.join('; ')})` : ''),
  );
  console.log(`history rows written: ${history[0]?.n}`);
  const p95 = percentile(latencies, 0.95);
  if (failures > 0 || !(p95 < BAR_P95_MS)) {
    console.error(`\nFAILED: ${failures > 0 ? `${failures} requests failed; ` : ''}p95 ${f(p95)} ms (bar < ${BAR_P95_MS} ms)`);
    process.exitCode = 1;
  } else {
    console.log(`\nOK: HTTP p95 ${f(p95)} ms < ${BAR_P95_MS} ms at ${RATE} req/s.`);
  }
} finally {
  if (server) await new Promise<void>((done) => server!.close(() => done()));
  await drop();
}
}
