/**
 * `npm run bench`: every benchmark of SPEC §10 in turn, each in its own process.
 *   DATABASE_URL   PostgreSQL for the PostgreSQL rows (e.g. `bash scripts/postgres.sh start` prints one)
 *   KAFKA_BROKERS  the local broker for the relay rows (`bash scripts/kafka.sh start`)
 * Without them the PostgreSQL and Kafka parts are skipped and say so.
 */
import { spawnSync } from 'node:child_process';

const steps: { name: string; script: string; needs?: string[] }[] = [
  { name: 'orchestration overhead per iteration and per whole turn (scripted zero-latency model)', script: 'bench/turn-overhead.ts' },
  { name: 'embedded cold start and idle memory', script: 'bench/cold-start.ts' },
  { name: 'first answer from a fresh start: soma serve on a new data folder, then soma chat -m (default local model)', script: 'bench/first-answer.ts' },
  { name: 'idle memory by part (each heavy module and PGlite alone, and the whole server)', script: 'bench/idle-memory.ts' },
  { name: 'learning through sendMessage in five worlds (environment model)', script: 'bench/learning.ts' },
  { name: 'recall at 100,000 memories', script: 'bench/recall.ts' },
  { name: 'brain over HTTP: publish_turn_metrics at 200 req/s', script: 'bench/brain-http.ts' },
  { name: 'outbox → Kafka relay throughput and lag', script: 'bench/relay.ts', needs: ['KAFKA_BROKERS'] },
];

let failed = 0;
for (const step of steps) {
  console.log(`\n=== ${step.name} (${step.script}) ===`);
  const missing = (step.needs ?? []).filter((name) => !process.env[name]);
  if (missing.length > 0) {
    console.log(`skipped: set ${missing.join(', ')}`);
    continue;
  }
  const result = spawnSync(process.execPath, ['--import', 'tsx', step.script], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    failed++;
    console.log(`${step.script} exited ${result.status}`);
  }
}
if (!process.env.DATABASE_URL) console.log('\n(PostgreSQL rows skipped: set DATABASE_URL)');
process.exitCode = failed > 0 ? 1 : 0;
