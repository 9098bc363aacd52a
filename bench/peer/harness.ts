/**
 * The LangGraph.js peer harness (`../shared/peer-bench/langgraph`, or `SOMA_PEER_BENCH_DIR`): found,
 * installed from its committed lock into an ignored cache folder, and run one round at a time as a
 * child process, so its rounds interleave with Soma's.
 *
 * The harness's `bench.mjs` is copied next to its `node_modules` (its imports resolve from its own
 * folder) with one change: the JSON it writes also carries the raw turn latencies of each run, so both
 * sides are pooled the same way. Its measurement code runs unchanged.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Run } from './stats.js';

const HARNESS_FILES = ['package.json', 'package-lock.json', 'bench.mjs'] as const;
/** Where the harness writes its document; the raw runs are added beside its summaries. */
const OUTPUT_ANCHOR = 'const doc = { meta, results, marginal_split_conc1: marginal, checkpoint_writes: writes };';
const OUTPUT_WITH_RAW = 'const doc = { meta, results, marginal_split_conc1: marginal, checkpoint_writes: writes, raw_runs: Object.fromEntries(raw) };';

export class HarnessError extends Error {
  override name = 'HarnessError';
}

/**
 * The harness folder: `SOMA_PEER_BENCH_DIR`, else the first `shared/peer-bench/langgraph` found in
 * the parent folders of the checkout (`../shared/…` next to a checkout, or further up for a worktree).
 */
export function findHarness(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.SOMA_PEER_BENCH_DIR;
  const candidates: string[] = [];
  if (explicit) candidates.push(path.resolve(explicit));
  else {
    for (let dir = path.dirname(path.resolve(repoRoot)); ; dir = path.dirname(dir)) {
      candidates.push(path.join(dir, 'shared', 'peer-bench', 'langgraph'));
      if (path.dirname(dir) === dir) break;
    }
  }
  const found = candidates.find((dir) => HARNESS_FILES.every((file) => existsSync(path.join(dir, file))));
  if (found) return found;
  throw new HarnessError(
    explicit
      ? `SOMA_PEER_BENCH_DIR=${explicit} does not hold the peer harness (${HARNESS_FILES.join(', ')})`
      : `the LangGraph.js peer harness was not found (looked for shared/peer-bench/langgraph above ${path.resolve(repoRoot)}); ` +
          'it is not part of this repository: put it at ../shared/peer-bench/langgraph or set SOMA_PEER_BENCH_DIR to its folder',
  );
}

/**
 * Installs the harness's dependencies from its lock into `cacheDir` with `npm ci`, once per lock
 * (a stamp holds the lock's hash), and refreshes the copy of its `bench.mjs`. Returns the runnable copy.
 */
export function installHarness(harnessDir: string, cacheDir: string, log: (line: string) => void): string {
  mkdirSync(cacheDir, { recursive: true });
  const lock = readFileSync(path.join(harnessDir, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).update(readFileSync(path.join(harnessDir, 'package.json'))).digest('hex');
  const stamp = path.join(cacheDir, '.installed');
  const installed = existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(path.join(cacheDir, 'node_modules'));
  if (!installed) {
    log(`installing the peer harness's dependencies into ${cacheDir} (npm ci)`);
    rmSync(path.join(cacheDir, 'node_modules'), { recursive: true, force: true });
    writeFileSync(path.join(cacheDir, 'package.json'), readFileSync(path.join(harnessDir, 'package.json')));
    writeFileSync(path.join(cacheDir, 'package-lock.json'), lock);
    const npm = path.join(path.dirname(process.execPath), process.platform === 'win32' ? 'npm.cmd' : 'npm');
    try {
      execFileSync(existsSync(npm) ? npm : 'npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: cacheDir, stdio: ['ignore', 'inherit', 'inherit'] });
    } catch (cause) {
      throw new HarnessError(`npm ci of the peer harness failed in ${cacheDir}: ${(cause as Error).message}`);
    }
    writeFileSync(stamp, hash);
  }
  const source = readFileSync(path.join(harnessDir, 'bench.mjs'), 'utf8');
  if (!source.includes(OUTPUT_ANCHOR)) {
    throw new HarnessError(`the peer harness's bench.mjs changed: "${OUTPUT_ANCHOR}" not found, so its raw latencies cannot be read`);
  }
  const script = path.join(cacheDir, 'bench.mjs');
  writeFileSync(script, source.replace(OUTPUT_ANCHOR, OUTPUT_WITH_RAW));
  return script;
}

export interface PeerVersions {
  node: string;
  packages: Record<string, string>;
  postgres?: string;
}

export interface PeerRound {
  runs: Map<string, Run>;
  meta: PeerVersions;
  /** The harness's own count of SQL statements for one turn (its `checkpoint_writes.postgres_async`). */
  writes?: { write_transactions_per_turn: number; round_trips_per_turn: number; sql_statements_per_turn: Record<string, number> };
}

interface RawRun {
  lat: number[];
  wall: number;
  iterations: number;
  nodeCpuMs: number;
}

/**
 * One round of the harness: `modes` (in this order) at one concurrency, `turns` recorded turns after
 * `warmup`, as a child process on the same Node. Resolves with each mode's run.
 */
export async function runHarnessRound(
  script: string,
  { modes, conc, turns, warmup, pgUrl, tag }: { modes: string[]; conc: number; turns: number; warmup: number; pgUrl: string; tag: string },
): Promise<PeerRound> {
  const out = `round-${tag}.json`;
  const args = ['--expose-gc', script, '--modes', modes.join(','), '--rounds', '1', '--conc', String(conc), '--turns', String(turns), '--warmup', String(warmup), '--marginal', '0', '--out', out];
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: path.dirname(script), env: { ...process.env, PG_URL: pgUrl }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const file = path.join(path.dirname(script), out);
  if (code !== 0 || !existsSync(file)) throw new HarnessError(`the peer harness exited ${code}: ${stderr.join('').trim().split('\n').slice(-5).join(' / ')}`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    meta: { node: string; packages: Record<string, string>; postgres?: { version: string } };
    raw_runs: Record<string, RawRun[]>;
    checkpoint_writes?: { postgres_async?: PeerRound['writes'] };
  };
  rmSync(file, { force: true });
  const runs = new Map<string, Run>();
  for (const [key, list] of Object.entries(doc.raw_runs)) {
    const [mode] = key.split('|');
    const run = list[0]!;
    runs.set(mode!, { latencies: run.lat, wallMs: run.wall, iterations: run.iterations, nodeCpuMs: run.nodeCpuMs });
  }
  return {
    runs,
    meta: { node: doc.meta.node, packages: doc.meta.packages, ...(doc.meta.postgres ? { postgres: doc.meta.postgres.version.split(' on ')[0] } : {}) },
    ...(doc.checkpoint_writes?.postgres_async ? { writes: doc.checkpoint_writes.postgres_async } : {}),
  };
}
