/**
 * Soma's side of `npm run bench:peer`: whole turns through the product's `sendMessage` use case, in
 * process (as the peer calls `graph.invoke`), on PostgreSQL, with a zero-latency scripted model whose
 * three iterations converge on the third — the shape of the peer's refine loop. Every turn runs in a
 * conversation of its own (created before the measured window, as the peer's thread ids cost nothing).
 *
 * Also: the time of each phase of a turn (from the turn's own events) and a count of the SQL round
 * trips and transactions of one turn by phase (the pg client's `query`, wrapped for that turn only).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { Soma } from '../../src/main.js';
import type { Caller } from '../../src/app/context.js';
import { completed, unwrap } from '../support/unwrap.js';
import type { TurnEvent } from '../../src/app/send-message/index.js';
import { createCapsule, createConversation, createSoma, createTenant, loadConfig, sendMessage } from './product.js';
import type { Run } from './stats.js';

export const ITERATIONS_PER_TURN = 3;

/** About 350 bytes a draft, like the peer's canned model output, each a revision of the last. */
const draft = (version: number) =>
  `Draft v${version}: The answer is built from first principles, checked against the constraints, and revised where the assessment found gaps. ` +
  'This revision tightens the argument, removes a redundant paragraph, fixes one off-by-one in the example and adds a ' +
  'short summary at the end so that the assessor can score it deterministically.';

/**
 * Three iterations that exit `converged` after the third (SPEC §3 exit rules, threshold 0.9):
 * confidence exp(mean logprob) ≈ 0.43, 0.43, 0.99; the score 0.6·confidence + 0.25·stability + 0.15
 * is ≈ 0.41, ≈ 0.64, ≈ 0.98 — no earlier exit (no plateau before 3 scores, no repeated draft, not final).
 */
export const benchScript = {
  turns: [
    {
      iterations: [
        { text: draft(1), logprobs: [-0.9, -0.8] },
        { text: draft(2), logprobs: [-0.9, -0.8] },
        { text: draft(3), logprobs: [-0.01, -0.02] },
      ],
    },
  ],
};

export interface SomaBench {
  soma: Soma;
  caller: Caller;
  close(): Promise<void>;
}

/** A Soma on `databaseUrl` (migrated) with the bench's scripted model and a tenant. */
export async function startSoma(databaseUrl: string): Promise<SomaBench> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-peer-'));
  const scriptFile = path.join(dir, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(benchScript));
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    SOMA_DATA_DIR: dir,
    SOMA_MODEL: `scripted:${scriptFile}`,
    // Belt and braces: the script converges on the third iteration; this caps it there too.
    SA01_RLM_MAX_ITERATIONS: String(ITERATIONS_PER_TURN),
    // The script's scores (≈ 0.41, 0.64, 0.98) stop at SPEC §3's threshold 0.9 on the third iteration, as the peer's 3 steps.
    SA01_RLM_CONVERGENCE_THRESHOLD: '0.9',
    // The per-minute turn quota stays on (its admission is part of a turn's cost), high enough for the bench's rate.
    SOMA_TENANT_TURNS_PER_MINUTE: process.env.SOMA_TENANT_TURNS_PER_MINUTE ?? '1000000',
  });
  // The turn path logs nothing below warn; warnings (a failed recall, say) go to stderr, off the report.
  const soma = await createSoma({ config, logger: pino({ level: 'warn', base: { service: 'soma' } }, pino.destination(2)) });
  const tenant = await createTenant(soma.ctx, { name: 'peer-bench' });
  return {
    soma,
    caller: { tenantId: tenant.id, userId: tenant.user_id },
    close: async () => {
      // The last turns' memories are stored in the background: let them land before the pool closes.
      await new Promise((r) => setTimeout(r, 300));
      await soma.close();
    },
  };
}

/** Milliseconds of each phase of one turn, from its events. */
export interface TurnPhases {
  /** sendMessage called → `turn.started`: validation reads, history, the turn-start transaction. */
  start: number;
  /** `turn.started` → first `iteration.started`: memory recall, tool loading. */
  recall: number;
  /** Each `iteration.started` → `iteration.completed`. */
  iterations: number[];
  /** Gaps between an `iteration.completed` and the next `iteration.started`. */
  between: number;
  /** Last `iteration.completed` → `turn.completed`: the finishing transaction. */
  finish: number;
  /** `turn.completed` → sendMessage resolved. */
  after: number;
}

export interface SomaRunOptions {
  conc: number;
  turns: number;
  warmup: number;
  /** One capsule for every worker (default: concurrent turns share one agent, its learning chain serialises them), or one per worker. */
  capsulePerWorker?: boolean;
  /** Record each turn's phases. */
  phases?: boolean;
  /** Wraps the measured window (e.g. a CPU profiler); set-up and warm-up stay outside. */
  measure?: (work: () => Promise<void>) => Promise<void>;
}

export interface SomaRun extends Run {
  phases: TurnPhases[];
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * One measured run: a new capsule (so its memory starts empty and every run recalls from the same
 * amount), one new conversation per turn created up front, `warmup` unrecorded turns, then `turns`
 * recorded ones by `conc` workers. Every turn must do exactly three iterations and converge.
 */
export async function runSoma(bench: SomaBench, { conc, turns, warmup, capsulePerWorker = false, phases = false, measure = (work) => work() }: SomaRunOptions): Promise<SomaRun> {
  const { soma, caller } = bench;
  const capsules: string[] = [];
  for (let w = 0; w < (capsulePerWorker ? conc : 1); w++) {
    capsules.push(unwrap(await createCapsule(soma.ctx, { caller, input: { name: `peer-bench-${w}`, system_prompt: 'You are a benchmark.' } })).id);
  }
  const conversationsFor = async (n: number) => {
    const ids: string[][] = capsules.map(() => []);
    for (let i = 0; i < n; i++) {
      const slot = i % capsules.length;
      ids[slot]!.push(unwrap(await createConversation(soma.ctx, { caller, capsuleId: capsules[slot]! })).id);
    }
    return ids;
  };

  const pool = async (conversations: string[][], record: boolean, latencies: number[], phaseLog: TurnPhases[]) => {
    const next = conversations.map(() => 0);
    let question = 0;
    await Promise.all(
      Array.from({ length: conc }, async (_, w) => {
        const slot = w % conversations.length;
        for (;;) {
          const id = conversations[slot]![next[slot]!++];
          if (id === undefined) return;
          const marks = phases && record ? new PhaseMarks() : undefined;
          const t0 = performance.now();
          const done = completed(unwrap(await sendMessage(soma.ctx, { caller, conversationId: id, content: `question #${question++}`, ...(marks ? { onEvent: marks.onEvent } : {}) })));
          const t1 = performance.now();
          if (done.iterations !== ITERATIONS_PER_TURN || done.exit_reason !== 'converged') throw new Error(`bad turn: ${done.iterations} iterations, exit ${done.exit_reason}`);
          if (record) latencies.push(t1 - t0);
          if (marks) phaseLog.push(marks.phases(t0, t1));
        }
      }),
    );
  };

  // Workers take the conversations of their capsule; with one capsule per worker each has its own list.
  const warm = await conversationsFor(warmup);
  const measured = await conversationsFor(turns);
  await pool(warm, false, [], []);
  gc?.();
  const latencies: number[] = [];
  const phaseLog: TurnPhases[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await measure(() => pool(measured, true, latencies, phaseLog));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { latencies, wallMs, iterations: latencies.length * ITERATIONS_PER_TURN, nodeCpuMs: (cpu.user + cpu.system) / 1000, phases: phaseLog };
}

class PhaseMarks {
  private turnStarted = 0;
  private firstIteration = 0;
  private iterationStarted = 0;
  private lastCompleted = 0;
  private turnCompleted = 0;
  private between = 0;
  private readonly iterations: number[] = [];

  readonly onEvent = (event: TurnEvent) => {
    switch (event.event) {
      case 'turn.started':
        this.turnStarted = performance.now();
        break;
      case 'iteration.started':
        this.iterationStarted = performance.now();
        if (this.firstIteration === 0) this.firstIteration = this.iterationStarted;
        else this.between += this.iterationStarted - this.lastCompleted;
        break;
      case 'iteration.completed':
        this.lastCompleted = performance.now();
        this.iterations.push(this.lastCompleted - this.iterationStarted);
        break;
      case 'turn.completed':
        this.turnCompleted = performance.now();
        break;
      default:
    }
  };

  phases(t0: number, t1: number): TurnPhases {
    return {
      start: this.turnStarted - t0,
      recall: this.firstIteration - this.turnStarted,
      iterations: this.iterations,
      between: this.between,
      finish: this.turnCompleted - this.lastCompleted,
      after: t1 - this.turnCompleted,
    };
  }
}

// ------------------------------------------------------------------ SQL round trips per phase

export type Phase = 'start' | 'recall' | `iteration ${number}` | 'between' | 'finish' | 'after the answer (remember)';

export interface PhaseCount {
  phase: string;
  round_trips: number;
  transactions: number;
  statements: string[];
}

/** A short, stable name of one SQL statement: its verb and table (`INSERT turns`, `SELECT … FOR UPDATE capsules`). */
export function statementKind(text: string): string {
  const q = text.trim().replace(/\s+/g, ' ').replace(/"/g, '');
  const verb = (q.split(' ')[0] ?? '').toUpperCase();
  const table = (re: RegExp) => re.exec(q)?.[1] ?? '?';
  switch (verb) {
    case 'BEGIN':
    case 'COMMIT':
    case 'ROLLBACK':
      return verb;
    case 'INSERT':
      return `INSERT ${table(/^insert into (\S+)/i)}${/ on conflict /i.test(q) ? ' ON CONFLICT' : ''}`;
    case 'UPDATE':
      return `UPDATE ${table(/^update (\S+)/i)}`;
    case 'DELETE':
      return `DELETE ${table(/^delete from (\S+)/i)}`;
    case 'SELECT': {
      const from = table(/ from (\S+)/i);
      const join = / join (\S+)/i.exec(q)?.[1];
      return `SELECT ${from}${join ? `+${join}` : ''}${/ for update/i.test(q) ? ' FOR UPDATE' : ''}`;
    }
    case 'WITH': {
      const parts = [...q.matchAll(/\b(insert into|update) (\S+)/gi)].map((m) => `${m[1]!.toUpperCase().replace(' INTO', '')} ${m[2]}`);
      if (parts.length > 0) return `WITH ${parts.join(' + ')}`;
      // A read in several steps: the recall's (`with walk as …`), the turn inputs' JSON rows, …
      return `WITH … SELECT ${table(/ from (\S+)/i)}`;
    }
    default:
      return verb || '?';
  }
}

/**
 * Runs one turn with every SQL statement of this process counted, by the phase (from the turn's
 * events) in which it was sent; statements still running after `sendMessage` resolved (the
 * non-blocking remember) are waited for and counted apart.
 */
export async function countRoundTrips(bench: SomaBench): Promise<PhaseCount[]> {
  const { soma, caller } = bench;
  const capsule = unwrap(await createCapsule(soma.ctx, { caller, input: { name: 'peer-bench-count', system_prompt: 'You are a benchmark.' } }));
  // A capsule with a memory, so recall does its full work (a first turn of a capsule finds none).
  const warm = unwrap(await createConversation(soma.ctx, { caller, capsuleId: capsule.id }));
  await sendMessage(soma.ctx, { caller, conversationId: warm.id, content: 'question #0' });
  await new Promise((r) => setTimeout(r, 200));
  const conversation = unwrap(await createConversation(soma.ctx, { caller, capsuleId: capsule.id }));

  let phase: string = 'start';
  let iteration = 0;
  const counts = new Map<string, PhaseCount>();
  let inFlight = 0;
  let lastActivity = performance.now();
  const original = pg.Client.prototype.query;
  const wrapped = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    const kind = statementKind(text);
    let entry = counts.get(phase);
    if (!entry) counts.set(phase, (entry = { phase, round_trips: 0, transactions: 0, statements: [] }));
    entry.round_trips++;
    if (kind === 'COMMIT') entry.transactions++;
    entry.statements.push(kind);
    inFlight++;
    const settle = () => {
      inFlight--;
      lastActivity = performance.now();
    };
    const callback = args[args.length - 1];
    if (typeof callback === 'function') {
      args[args.length - 1] = (...results: unknown[]) => {
        settle();
        return (callback as (...r: unknown[]) => unknown)(...results);
      };
    }
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (typeof callback !== 'function') {
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(settle, settle);
      else settle();
    }
    return result;
  };
  pg.Client.prototype.query = wrapped as typeof original;
  try {
    await sendMessage(soma.ctx, {
      caller,
      conversationId: conversation.id,
      content: 'question #1',
      onEvent: (event) => {
        if (event.event === 'turn.started') phase = 'recall';
        else if (event.event === 'iteration.started') phase = `iteration ${(iteration = event.data.iteration) + 1}`;
        else if (event.event === 'iteration.completed') phase = iteration + 1 === ITERATIONS_PER_TURN ? 'finish' : 'between';
      },
    });
    phase = 'after the answer (remember)';
    // The remember runs in the background: wait until the database has been quiet for a while.
    while (inFlight > 0 || performance.now() - lastActivity < 100) await new Promise((r) => setTimeout(r, 10));
  } finally {
    pg.Client.prototype.query = original;
  }
  return [...counts.values()];
}
