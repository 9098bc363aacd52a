/**
 * Orchestration overhead (SPEC §10, §13.6) with the scripted zero-latency model, through the whole turn
 * path — context, model, convergence, in-process learning step with its history row, iteration row +
 * outbox event in one transaction, turn start and finish, recall and remember:
 *   - per iteration, `iteration.started → iteration.completed` (the iteration alone);
 *   - per turn, `sendMessage` called → resolved, and per iteration = turn / 3 (what a caller waits for,
 *     the measure of `npm run bench:peer`).
 * Turns of exactly 3 iterations (they converge on the third), a new conversation per turn.
 * Usage: node --import tsx bench/turn-overhead.ts  (DATABASE_URL → PostgreSQL too; PGlite always)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createSoma } from '../src/main.js';
import { openDatabase } from '../src/adapters/store/index.js';
import { createTenant } from '../src/app/tenancy.js';
import { createCapsule } from '../src/app/capsules/index.js';
import { completed, unwrap } from './support/unwrap.js';
import { createConversation } from '../src/app/conversations.js';
import { sendMessage } from '../src/app/send-message/index.js';
import { benchScript, ITERATIONS_PER_TURN } from './peer/soma.js';

export interface OverheadResult {
  driver: string;
  turns: number;
  /** `iteration.started → iteration.completed`. */
  iteration_p50_ms: number;
  iteration_p95_ms: number;
  iteration_p99_ms: number;
  /** Whole turn: `sendMessage` called → resolved. */
  turn_p50_ms: number;
  turn_p95_ms: number;
  /** Turn p50 / 3. */
  per_iteration_of_turn_p50_ms: number;
  /** Iterations / time spent in `sendMessage` (sequential turns). */
  iterations_per_s: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function measureTurnOverhead({ databaseUrl, turns = 100, warmup = 10 }: { databaseUrl?: string; turns?: number; warmup?: number }): Promise<OverheadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-bench-'));
  const scriptFile = path.join(dir, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(benchScript));
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, SOMA_DATA_DIR: dir, SOMA_MODEL: `scripted:${scriptFile}`, SA01_RLM_MAX_ITERATIONS: String(ITERATIONS_PER_TURN), SA01_RLM_CONVERGENCE_THRESHOLD: '0.9', SOMA_LOG_LEVEL: 'silent', SOMA_TENANT_TURNS_PER_MINUTE: process.env.SOMA_TENANT_TURNS_PER_MINUTE || '0' });
  const database = await openDatabase({ databaseUrl, dataDir: databaseUrl ? undefined : path.join(dir, 'pglite') });
  await database.migrate();
  const soma = await createSoma({ config, database, logger: pino({ level: 'silent' }) });
  const tenant = await createTenant(soma.ctx, { name: 'bench' });
  const caller = { tenantId: tenant.id, userId: tenant.user_id };
  const capsule = unwrap(await createCapsule(soma.ctx, { caller, input: { name: 'bench', system_prompt: 'You are a benchmark.' } }));

  const iterationSamples: number[] = [];
  const turnSamples: number[] = [];
  for (let i = 0; i < turns + warmup; i++) {
    const conversation = unwrap(await createConversation(soma.ctx, { caller, capsuleId: capsule.id }));
    const record = i >= warmup;
    let iterationStart = 0;
    const t0 = performance.now();
    const done = completed(unwrap(await sendMessage(soma.ctx, {
      caller,
      conversationId: conversation.id,
      content: `question #${i}`,
      onEvent: (event) => {
        if (event.event === 'iteration.started') iterationStart = performance.now();
        else if (event.event === 'iteration.completed' && record) iterationSamples.push(performance.now() - iterationStart);
      },
    })));
    if (record) turnSamples.push(performance.now() - t0);
    if (done.iterations !== ITERATIONS_PER_TURN) throw new Error(`a bench turn did ${done.iterations} iterations (${done.exit_reason})`);
  }
  await new Promise((r) => setTimeout(r, 200)); // the last turn's memory is stored in the background
  await soma.close();
  await database.close();
  const busyS = turnSamples.reduce((a, b) => a + b, 0) / 1000;
  iterationSamples.sort((a, b) => a - b);
  turnSamples.sort((a, b) => a - b);
  return {
    driver: databaseUrl ? 'postgres' : 'pglite',
    turns: turnSamples.length,
    iteration_p50_ms: round(percentile(iterationSamples, 50)),
    iteration_p95_ms: round(percentile(iterationSamples, 95)),
    iteration_p99_ms: round(percentile(iterationSamples, 99)),
    turn_p50_ms: round(percentile(turnSamples, 50)),
    turn_p95_ms: round(percentile(turnSamples, 95)),
    per_iteration_of_turn_p50_ms: round(percentile(turnSamples, 50) / ITERATIONS_PER_TURN),
    iterations_per_s: round(iterationSamples.length / busyS),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [await measureTurnOverhead({})];
  if (process.env.DATABASE_URL) results.push(await measureTurnOverhead({ databaseUrl: process.env.DATABASE_URL }));
  console.table(results);
}
