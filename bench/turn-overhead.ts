/**
 * Orchestration overhead per iteration (SPEC §10): the whole turn path — context, scripted
 * zero-latency model, convergence, in-process learning step with its history row, iteration row +
 * outbox event in one transaction — timed from `iteration.started` to `iteration.completed`.
 * Usage: node --import tsx bench/turn-overhead.ts  (DATABASE_URL → PostgreSQL, else PGlite)
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
import { createConversation } from '../src/app/conversations.js';
import { sendMessage } from '../src/app/send-message/index.js';
import type { Failure } from '../src/shared/errors.js';
import type { Result } from '../src/shared/result.js';

function unwrap<T>(result: Result<T, Failure>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

export interface OverheadResult {
  driver: string;
  iterations: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  iterations_per_s: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function measureTurnOverhead({ databaseUrl, turns = 60, iterationsPerTurn = 5 }: { databaseUrl?: string; turns?: number; iterationsPerTurn?: number }): Promise<OverheadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-bench-'));
  const scriptFile = path.join(dir, 'script.json');
  const iterations = Array.from({ length: iterationsPerTurn }, (_, k) => ({ text: `Draft number ${k} of the answer, refined a little more each time: ${'word '.repeat(20 + k)}`, logprobs: [-0.9, -0.8] }));
  writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations }] }));
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, SOMA_DATA_DIR: dir, SOMA_MODEL: `scripted:${scriptFile}`, SA01_RLM_MAX_ITERATIONS: String(iterationsPerTurn), SOMA_LOG_LEVEL: 'silent' });
  const database = await openDatabase({ databaseUrl, dataDir: databaseUrl ? undefined : path.join(dir, 'pglite') });
  await database.migrate();
  const soma = await createSoma({ config, database, logger: pino({ level: 'silent' }) });
  const tenant = await createTenant(soma.ctx, { name: 'bench' });
  const caller = { tenantId: tenant.id, userId: tenant.user_id };
  const capsule = unwrap(await createCapsule(soma.ctx, { caller, input: { name: 'bench', system_prompt: 'You are a benchmark.' } }));
  const conversation = unwrap(await createConversation(soma.ctx, { caller, capsuleId: capsule.id }));

  const samples: number[] = [];
  const warmup = 5;
  const started = performance.now();
  let measuredIterations = 0;
  let measuredStart = started;
  for (let i = 0; i < turns + warmup; i++) {
    if (i === warmup) measuredStart = performance.now();
    let iterationStart = 0;
    unwrap(await sendMessage(soma.ctx, {
      caller,
      conversationId: conversation.id,
      content: `question ${i}`,
      onEvent: (event) => {
        if (event.event === 'iteration.started') iterationStart = performance.now();
        else if (event.event === 'iteration.completed' && i >= warmup) {
          samples.push(performance.now() - iterationStart);
          measuredIterations++;
        }
      },
    }));
  }
  const seconds = (performance.now() - measuredStart) / 1000;
  await soma.close();
  await database.close();
  samples.sort((a, b) => a - b);
  return {
    driver: databaseUrl ? 'postgres' : 'pglite',
    iterations: samples.length,
    p50_ms: round(percentile(samples, 50)),
    p95_ms: round(percentile(samples, 95)),
    p99_ms: round(percentile(samples, 99)),
    iterations_per_s: round(measuredIterations / seconds),
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [await measureTurnOverhead({})];
  if (process.env.DATABASE_URL) results.push(await measureTurnOverhead({ databaseUrl: process.env.DATABASE_URL }));
  console.table(results);
}
