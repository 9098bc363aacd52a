/**
 * `npm run bench:peer`: the parts that decide what it reports — where it finds the peer harness and
 * what it says when it is missing, how it pools rounds, how it names SQL statements and summarises a
 * CPU profile — and, on PostgreSQL, that Soma's side runs real 3-iteration turns and that its count of
 * round trips sees every iteration commit before `iteration.completed`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHarness, HarnessError, installHarness } from '../../bench/peer/harness.js';
import { partOf, summarizeProfile, type CpuProfile } from '../../bench/peer/profile.js';
import { countRoundTrips, runSoma, startSoma, statementKind, type SomaBench } from '../../bench/peer/soma.js';
import { aggregate, pct, ratio } from '../../bench/peer/stats.js';
import { freshDatabase } from '../support/databases.js';
import { skipWithout } from '../support/services.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

function fakeHarness(root: string, benchSource = 'const doc = { meta, results, marginal_split_conc1: marginal, checkpoint_writes: writes };\n') {
  const dir = path.join(root, 'shared', 'peer-bench', 'langgraph');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"name":"fake","private":true}');
  writeFileSync(path.join(dir, 'package-lock.json'), '{"name":"fake","lockfileVersion":3,"requires":true,"packages":{"":{"name":"fake"}}}');
  writeFileSync(path.join(dir, 'bench.mjs'), benchSource);
  return dir;
}

describe('finding the peer harness', () => {
  it('walks up from the checkout to shared/peer-bench/langgraph, and SOMA_PEER_BENCH_DIR wins', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'peer-find-'));
    const harness = fakeHarness(root);
    const checkout = path.join(root, 'wt', 'soma');
    mkdirSync(checkout, { recursive: true });
    expect(findHarness(checkout, {})).toBe(harness);
    const other = fakeHarness(path.join(root, 'elsewhere'));
    expect(findHarness(checkout, { SOMA_PEER_BENCH_DIR: other })).toBe(other);
  });

  it('names what is missing when there is no harness', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'peer-none-'));
    expect(() => findHarness(path.join(root, 'soma'), {})).toThrow(/peer harness was not found.*SOMA_PEER_BENCH_DIR/);
    expect(() => findHarness(root, { SOMA_PEER_BENCH_DIR: path.join(root, 'nope') })).toThrow(HarnessError);
  });

  it('npm run bench:peer exits non-zero with that message, before touching any database', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/peer.ts', '--quick'], {
      cwd: repoRoot,
      env: { ...process.env, SOMA_PEER_BENCH_DIR: path.join(os.tmpdir(), 'no-such-peer-harness'), DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/SOMA_PEER_BENCH_DIR=.*no-such-peer-harness does not hold the peer harness/);
    expect(result.stdout).not.toMatch(/"bench":"peer"/);
  });

  it('refuses a harness whose bench.mjs no longer has the line it extends', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'peer-changed-'));
    const harness = fakeHarness(root, 'console.log("a different harness")\n');
    expect(() => installHarness(harness, path.join(root, 'cache'), () => undefined)).toThrow(/bench\.mjs changed/);
  });
});

describe('pooling rounds', () => {
  it('takes percentiles over the pooled turns, throughput over the pooled wall time, and keeps each round’s range', () => {
    const fast = { latencies: [3, 3, 3, 3], wallMs: 12, iterations: 12, nodeCpuMs: 6 };
    const slow = { latencies: [9, 9, 9, 9], wallMs: 36, iterations: 12, nodeCpuMs: 6 };
    const row = aggregate('soma', 1, 3, [fast, slow]);
    expect(row.turn_p50_ms).toBe(3);
    expect(row.turn_p95_ms).toBe(9);
    expect(row.iter_p50_ms).toBe(1);
    expect(row.iters_per_s).toBe(500);
    expect([row.iter_p50_round_min, row.iter_p50_round_max]).toEqual([1, 3]);
    expect([row.iters_per_s_round_min, row.iters_per_s_round_max]).toEqual([333.3, 1000]);
    expect(row.node_cpu_ms_per_iter).toBe(0.5);
    expect(pct([1, 2, 3, 4], 50)).toBe(2);
    const peer = aggregate('langgraph', 1, 3, [{ latencies: [12, 12], wallMs: 24, iterations: 6, nodeCpuMs: 1 }]);
    expect(ratio([peer, row], 1)).toBe(4);
    expect(ratio([peer, row], 8)).toBeNull();
  });
});

describe('naming SQL statements', () => {
  it.each([
    ['begin', 'BEGIN'],
    ['insert into "turns" ("id") values ($1)', 'INSERT turns'],
    ['insert into "memories" ("id") values ($1) on conflict ("tenant_id") do update set "content" = $2', 'INSERT memories ON CONFLICT'],
    ['select "learned_weights" from "capsules" where "id" = $1 for update', 'SELECT capsules FOR UPDATE'],
    ['select "c"."id" from "conversations" left join "conversation_participants" on true', 'SELECT conversations+conversation_participants'],
    ['\n    with appended as (\n insert into learning_updates (a) values (1) returning seq)\n update capsules set x = 1', 'WITH INSERT learning_updates + UPDATE capsules'],
    ['update "turns" set "status" = $1', 'UPDATE turns'],
    ['\n    with walk as (\n select id from memories where tenant_id = $1) select id from walk', 'WITH … SELECT memories'],
  ])('%s → %s', (sql, kind) => {
    expect(statementKind(sql)).toBe(kind);
  });
});

describe('summarising a CPU profile', () => {
  it('splits self time by part and counts a step once per sample however deep it recurses', () => {
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children });
    const profile: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 5, 6]),
        frame(2, 'runTurnLoop', 'file:///x/src/app/turn/run-turn-loop.ts', [3]),
        frame(3, 'runTurnLoop', 'file:///x/src/app/turn/run-turn-loop.ts', [4]),
        frame(4, 'is', 'file:///x/node_modules/drizzle-orm/entity.js'),
        frame(5, '(idle)', ''),
        frame(6, 'parse', 'file:///x/node_modules/pg-protocol/dist/parser.js'),
      ],
      startTime: 0,
      endTime: 400,
      samples: [4, 4, 5, 6],
      timeDeltas: [100, 100, 100, 100],
    };
    const summary = summarizeProfile(profile);
    expect(summary.total_ms).toBe(0.4);
    expect(summary.busy_ms).toBe(0.3);
    expect(summary.parts.map((p) => p.part)).toEqual(['drizzle (query building, result mapping)', 'pg driver (pg, pg-protocol, pg-types, pg-pool)']);
    expect(summary.steps).toEqual([{ step: 'runTurnLoop', inclusive_ms: 0.2, share_of_busy: 66.7 }]);
    expect(partOf('file:///x/node_modules/js-tiktoken/dist/index.js', 'encode')).toBe('token counting (js-tiktoken)');
    expect(partOf('file:///x/src/core/learning/step.ts', 'learningStep')).toBe('learning step + recall (core/learning, brain adapter)');
  });
});

describe.skipIf(skipWithout('databaseUrl'))('Soma’s side of the peer bench on PostgreSQL', () => {
  let bench: SomaBench;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshDatabase('postgres');
    drop = fresh.drop;
    bench = await startSoma(fresh.url!);
  });
  afterAll(async () => {
    await bench?.close();
    await drop?.();
  });

  it('runs whole 3-iteration turns through sendMessage, each in a new conversation, at concurrency 2', async () => {
    const run = await runSoma(bench, { conc: 2, turns: 6, warmup: 2, phases: true });
    expect(run.latencies).toHaveLength(6);
    expect(run.iterations).toBe(18);
    expect(run.phases.every((p) => p.iterations.length === 3)).toBe(true);
    const conversations = await bench.soma.database.query<{ n: number }>(
      (await import('drizzle-orm')).sql`select count(distinct t.conversation_id)::int as n, count(*)::int as turns from turns t`,
    );
    expect(conversations[0]!.n).toBe(8);
  });

  it("writes a fast turn's iterations, their learning steps and the close in one statement, committed before the first iteration.completed", async () => {
    const counts = await countRoundTrips(bench);
    const phases = counts.map((c) => c.phase);
    expect(phases).toEqual(expect.arrayContaining(['start', 'iteration 1']));
    // The last iteration's statement closes the turn: nothing is left to write after it.
    expect(phases).not.toContain('finish');
    // The recall reads while the turn's start is written, so its statement counts with the start: the
    // scope's version and what changed since the window this process holds (memory_scopes, then memories).
    expect(counts.find((c) => c.phase === 'start')!.statements).toContain('WITH … SELECT memory_scopes');
    // The scripted model drafts the next iteration well within SOMA_ITERATION_LINGER_MS: the three
    // iterations go together, in one autocommit statement sent (and committed) before the first
    // iteration.completed; the later iterations' windows send nothing.
    const first = counts.find((c) => c.phase === 'iteration 1')!;
    expect(first.transactions).toBe(0);
    expect(first.statements).not.toContain('BEGIN');
    const writes = first.statements.filter((statement) => statement.includes('INSERT rlm_iterations'));
    expect(writes).toHaveLength(1);
    for (const part of ['UPDATE capsules', 'INSERT rlm_iterations', 'INSERT outbox_messages', 'UPDATE turns', 'INSERT messages', 'UPDATE conversations']) expect(writes[0]).toContain(part);
    expect(writes[0]!.split('INSERT learning_updates').length - 1).toBe(3);
    for (const k of [2, 3]) expect(counts.find((c) => c.phase === `iteration ${k}`)?.round_trips ?? 0).toBe(0);
  });
});
