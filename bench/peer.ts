/**
 * `npm run bench:peer` (SPEC §13.6): Soma against LangGraph.js + PostgresSaver and the floor (one
 * JSONB INSERT per iteration) on one PostgreSQL, in interleaved rounds of one run. Each side runs
 * whole turns of exactly 3 iterations with a zero-latency model, a new conversation (thread) per turn,
 * per iteration = turn latency / 3, at concurrency 1 and 8, warm-up turns unrecorded.
 *
 *   LangGraph.js and the floor: the peer harness (`../shared/peer-bench/langgraph`, or
 *     `SOMA_PEER_BENCH_DIR`), installed from its lock into `.cache/peer-bench/langgraph`, one child
 *     process per round.
 *   Soma: the product's `sendMessage` use case in this process (durable iteration + event per
 *     iteration, learning step, outbox, memory), with the scripted model.
 *
 * Options: --rounds 3 --turns 300 --warmup 30 --conc 1,8 --who langgraph,floor,soma
 *          --quick (2 rounds × 100 turns, about a minute) --capsule-per-worker
 *          --profile [file.cpuprofile] (a CPU profile of Soma, summarised) --profile-conc 1 (its concurrency)
 *          --no-count (skip the count of SQL round trips per phase and the WAL a turn writes)
 * PostgreSQL: DATABASE_URL, else `scripts/postgres.sh start` and a database of its own.
 * The last line printed is JSON: {"bench":"peer","rows":[…],"ratio_c1","ratio_c8"}.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findHarness, HarnessError, installHarness, runHarnessRound, type PeerRound } from './peer/harness.js';
import { benchPostgres, clusterCpuMsSince, clusterCpuTicks, serverInfo } from './peer/postgres.js';
import { profile, summarizeProfile, type CpuProfile } from './peer/profile.js';
import { productSource } from './peer/product.js';
import { countRoundTrips, ITERATIONS_PER_TURN, runSoma, startSoma, type SomaRun, type TurnPhases } from './peer/soma.js';
import { walOfTurns } from './peer/wal.js';
import { aggregate, markdownTable, median, r3, ratio, rowsTable, type Row, type Run } from './peer/stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => process.stderr.write(`${line}\n`);

// ------------------------------------------------------------------ options
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[i + 1]! : fallback;
};
const quick = flag('quick');
const ROUNDS = Number(option('rounds', quick ? '2' : '3'));
const TURNS = Number(option('turns', quick ? '100' : '300'));
const WARMUP = Number(option('warmup', quick ? '20' : '30'));
const CONCS = option('conc', '1,8').split(',').map(Number);
const WHO = option('who', 'langgraph,floor,soma').split(',');
const CAPSULE_PER_WORKER = flag('capsule-per-worker');
const PROFILE_CONC = Number(option('profile-conc', '1'));
const PROFILE = flag('profile') ? option('profile', path.join(repoRoot, '.cache', 'peer-bench', `soma-c${PROFILE_CONC}-${Date.now()}.cpuprofile`)) : undefined;
const COUNT = !flag('no-count');
for (const [name, value] of [['rounds', ROUNDS], ['turns', TURNS], ['warmup', WARMUP]] as const) {
  if (!Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1)) throw new Error(`--${name} must be a whole number`);
}
const unknownWho = WHO.filter((w) => !['langgraph', 'floor', 'soma'].includes(w));
if (unknownWho.length > 0) throw new Error(`--who: unknown ${unknownWho.join(', ')} (langgraph, floor, soma)`);
/** The harness's mode of each peer contender. */
const MODE_OF: Record<string, string> = { langgraph: 'postgres', floor: 'pg-floor' };
const peers = WHO.filter((w) => w !== 'soma');
const withSoma = WHO.includes('soma');

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<number> {
  let script: string | undefined;
  if (peers.length > 0) {
    try {
      const harness = findHarness(repoRoot);
      script = installHarness(harness, path.join(repoRoot, '.cache', 'peer-bench', 'langgraph'), log);
      log(`peer harness: ${harness}`);
    } catch (cause) {
      if (cause instanceof HarnessError) {
        log(`bench:peer: ${cause.message}`);
        return 2;
      }
      throw cause;
    }
  }
  const database = await benchPostgres(repoRoot, process.env, log);
  const server = await serverInfo(database.url);
  log(`PostgreSQL: ${server.version} (${database.source}); fsync ${server.settings.fsync}, synchronous_commit ${server.settings.synchronous_commit}`);
  const loadBefore = loadavg();

  const soma = withSoma ? await startSoma(database.url) : undefined;
  try {
    if (soma) {
      // JIT warm-up, unrecorded, as the harness does for its modes.
      log('soma warm-up ...');
      await runSoma(soma, { conc: 1, turns: Math.max(WARMUP, 100), warmup: 0 });
    }
    const runs = new Map<string, Run[]>();
    const somaRuns = new Map<number, SomaRun[]>();
    let peerMeta: PeerRound['meta'] | undefined;
    let peerWrites: PeerRound['writes'];
    const push = (who: string, conc: number, run: Run) => {
      const key = `${who}|${conc}`;
      if (!runs.has(key)) runs.set(key, []);
      runs.get(key)!.push(run);
    };
    const note = (who: string, conc: number, round: number, run: Run) =>
      log(`round ${round}/${ROUNDS} ${who.padEnd(9)} conc=${conc}: ${r3(median(run.latencies) / ITERATIONS_PER_TURN)} ms/iter p50, ${Math.round((run.iterations / run.wallMs) * 1000)} it/s`);

    const started = performance.now();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const conc of CONCS) {
        // Alternate who goes first, so a drift of the machine does not favour one side.
        const peerModes = (round % 2 === 1 ? peers : [...peers].reverse()).map((p) => MODE_OF[p]!);
        const runPeers = async () => {
          if (!script || peerModes.length === 0) return;
          const result = await runHarnessRound(script, { modes: peerModes, conc, turns: TURNS, warmup: WARMUP, pgUrl: database.url, tag: `${round}-c${conc}` });
          peerMeta = result.meta;
          peerWrites ??= result.writes;
          for (const who of peers) {
            const run = result.runs.get(MODE_OF[who]!);
            if (!run) throw new Error(`the peer harness returned no ${MODE_OF[who]} run`);
            push(who, conc, run);
            note(who, conc, round, run);
          }
        };
        const runOurs = async () => {
          if (!soma) return;
          const run = await runSoma(soma, { conc, turns: TURNS, warmup: WARMUP, capsulePerWorker: CAPSULE_PER_WORKER, phases: true });
          push('soma', conc, run);
          if (!somaRuns.has(conc)) somaRuns.set(conc, []);
          somaRuns.get(conc)!.push(run);
          note('soma', conc, round, run);
        };
        if (round % 2 === 1) {
          await runPeers();
          await runOurs();
        } else {
          await runOurs();
          await runPeers();
        }
      }
    }
    const measuredS = Math.round((performance.now() - started) / 100) / 10;
    const loadAfter = loadavg();

    const rows: Row[] = [];
    for (const conc of CONCS) {
      for (const who of ['langgraph', 'soma', 'floor']) {
        const list = runs.get(`${who}|${conc}`);
        if (list) rows.push(aggregate(who, conc, ITERATIONS_PER_TURN, list));
      }
    }

    // ---- diagnostics of Soma: phases, CPU of PostgreSQL, round trips, profile
    const extra: Record<string, unknown> = {};
    const out: string[] = [];
    const peerLine = peerMeta ? `LangGraph.js ${peerMeta.packages['@langchain/langgraph']} + checkpoint-postgres ${peerMeta.packages['@langchain/langgraph-checkpoint-postgres']}, pg ${peerMeta.packages.pg}; ` : '';
    out.push(
      `\nwhole turns of ${ITERATIONS_PER_TURN} iterations, per iteration = turn / ${ITERATIONS_PER_TURN}; ${ROUNDS} interleaved rounds × ${TURNS} turns (+${WARMUP} warm-up) per contender and concurrency; ` +
        `${peerLine}node ${process.version}; ${server.version}; ${os.cpus().length} cpus; load average ${loadBefore} before, ${loadAfter} after (1/5/15 min); ${measuredS} s measured` +
        (CAPSULE_PER_WORKER ? '; Soma: one capsule per worker' : '; Soma: one capsule shared by the workers'),
    );
    out.push(rowsTable(rows));
    if (somaRuns.size > 0) {
      const phaseRows = [...somaRuns].map(([conc, list]) => ({ conc, ...phaseMedians(list.flatMap((r) => r.phases)) }));
      extra.soma_phases_ms = phaseRows;
      out.push(`\nSoma, median ms per phase of a turn (from the turn's events):`);
      out.push(
        markdownTable(phaseRows, [
          ['conc', (r) => r.conc],
          ['start (reads, turn-start tx)', (r) => r.start],
          ['recall + tools', (r) => r.recall],
          ...Array.from({ length: ITERATIONS_PER_TURN }, (_, k) => [`iteration ${k + 1}`, (r: ReturnType<typeof phaseMedians>) => r.iterations[k] ?? '-'] as [string, (r: ReturnType<typeof phaseMedians>) => string | number]),
          ['between iterations', (r) => r.between],
          ['finish tx', (r) => r.finish],
          ['after turn.completed', (r) => r.after],
          ['turn', (r) => r.turn],
        ]),
      );
    }
    if (soma && COUNT) {
      const counts = await countRoundTrips(soma);
      extra.soma_round_trips = counts;
      const total = counts.reduce((a, c) => a + c.round_trips, 0);
      const tx = counts.reduce((a, c) => a + c.transactions, 0);
      const critical = counts.filter((c) => !c.phase.startsWith('after')).reduce((a, c) => a + c.round_trips, 0);
      out.push(`\nSoma, SQL round trips of one turn by phase: ${total} round trips (${critical} before the answer), ${tx} transactions`);
      out.push(markdownTable(counts, [['phase', (c) => c.phase], ['round trips', (c) => c.round_trips], ['tx', (c) => c.transactions], ['statements', (c) => compress(c.statements)]]));
      if (peerWrites) {
        out.push(
          `LangGraph.js (its harness's count): ${peerWrites.round_trips_per_turn} round trips, ${peerWrites.write_transactions_per_turn} write transactions per turn ${JSON.stringify(peerWrites.sql_statements_per_turn)}`,
        );
        extra.langgraph_round_trips = peerWrites;
      }
    }
    if (soma && COUNT) {
      const wal = await walOfTurns(soma, database.url);
      if (wal) {
        extra.soma_wal = wal;
        out.push(
          `\nSoma, what PostgreSQL writes a turn (its WAL over ${wal.turns} turns at conc 1, pg_walinspect): ${wal.bytes_per_turn} bytes, ${wal.row_locks_per_turn} row locks, ${wal.index_entries_per_turn} index entries, ${wal.commits_per_turn} commits`,
        );
        out.push(markdownTable(wal.records, [['WAL record', (r) => r.record], ['per turn', (r) => r.per_turn], ['bytes per turn', (r) => r.bytes_per_turn]]));
      } else out.push('\nSoma, WAL per turn: not measured (pg_walinspect unavailable to this user)');
    }
    if (soma && server.postmasterPid !== null) {
      // PostgreSQL's CPU per iteration for Soma's turns (this cluster's processes only).
      const before = clusterCpuTicks(server.postmasterPid);
      const run = await runSoma(soma, { conc: 1, turns: Math.min(TURNS, 200), warmup: 10 });
      const pgMs = clusterCpuMsSince(server.postmasterPid, before);
      if (pgMs !== null) {
        extra.soma_pg_cpu_ms_per_iter_c1 = r3(pgMs / (run.iterations + 10 * ITERATIONS_PER_TURN));
        out.push(`\nSoma at conc 1: node CPU ${r3(run.nodeCpuMs / run.iterations)} ms/iter, PostgreSQL CPU ${extra.soma_pg_cpu_ms_per_iter_c1} ms/iter (this cluster, warm-up included)`);
      }
    }
    if (soma && PROFILE) {
      let cpu: CpuProfile | undefined;
      await runSoma(soma, {
        conc: PROFILE_CONC,
        turns: TURNS,
        warmup: WARMUP,
        measure: async (work) => {
          cpu = (await profile(work, { file: PROFILE })).profile;
        },
      });
      if (!cpu) throw new Error('no profile was taken');
      const summary = summarizeProfile(cpu);
      extra[`soma_profile_c${PROFILE_CONC}`] = { file: PROFILE, ...summary };
      out.push(`\nCPU profile of Soma at conc ${PROFILE_CONC} (${TURNS} turns, ${summary.busy_ms} ms busy of ${summary.total_ms} ms; ${PROFILE}):`);
      out.push(markdownTable(summary.parts, [['part (self time)', (p) => p.part], ['ms', (p) => p.self_ms], ['% of busy', (p) => p.share_of_busy]]));
      out.push(markdownTable(summary.steps, [['step (inclusive, synchronous parts)', (s) => s.step], ['ms', (s) => s.inclusive_ms], ['% of busy', (s) => s.share_of_busy]]));
      out.push(markdownTable(summary.top_self, [['function (top self time)', (f) => f.function], ['where', (f) => f.where], ['part', (f) => f.part], ['ms', (f) => f.self_ms], ['%', (f) => f.share_of_busy]]));
    }
    process.stdout.write(`${out.join('\n')}\n`);
    const json = {
      bench: 'peer',
      rows: rows.map(({ who, conc, iter_p50_ms, iters_per_s, iter_p95_ms, turn_p50_ms, turn_p95_ms, iter_p50_round_min, iter_p50_round_max, iters_per_s_round_min, iters_per_s_round_max, node_cpu_ms_per_iter, turns }) => ({
        who,
        conc,
        iter_p50_ms,
        iters_per_s,
        iter_p95_ms,
        turn_p50_ms,
        turn_p95_ms,
        iter_p50_round: [iter_p50_round_min, iter_p50_round_max],
        iters_per_s_round: [iters_per_s_round_min, iters_per_s_round_max],
        node_cpu_ms_per_iter,
        turns,
      })),
      ratio_c1: ratio(rows, 1),
      ratio_c8: ratio(rows, 8),
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        postgres: server.version,
        postgres_settings: server.settings,
        peer: peerMeta?.packages ?? null,
        soma_commit: gitCommit(),
        soma_from: productSource,
        rounds: ROUNDS,
        turns: TURNS,
        warmup: WARMUP,
        loadavg_before: loadBefore,
        loadavg_after: loadAfter,
        capsule_per_worker: CAPSULE_PER_WORKER,
      },
      ...extra,
    };
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return 0;
  } finally {
    await soma?.close();
  }
}

function phaseMedians(phases: TurnPhases[]) {
  const m = (values: number[]) => r3(median(values));
  return {
    start: m(phases.map((p) => p.start)),
    recall: m(phases.map((p) => p.recall)),
    iterations: Array.from({ length: ITERATIONS_PER_TURN }, (_, k) => m(phases.map((p) => p.iterations[k] ?? Number.NaN))),
    between: m(phases.map((p) => p.between)),
    finish: m(phases.map((p) => p.finish)),
    after: m(phases.map((p) => p.after)),
    turn: m(phases.map((p) => p.start + p.recall + p.iterations.reduce((a, b) => a + b, 0) + p.between + p.finish + p.after)),
  };
}

/** `A, A, B` → `2× A, B` (runs of equal neighbours). */
function compress(statements: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < statements.length; ) {
    let j = i;
    while (j < statements.length && statements[j] === statements[i]) j++;
    parts.push(j - i > 1 ? `${j - i}× ${statements[i]}` : statements[i]!);
    i = j;
  }
  return parts.join(', ');
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(`bench:peer failed: ${(err as Error)?.stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
