/**
 * The PostgreSQL of `npm run bench:peer`: `DATABASE_URL` as given, else the checkout's private cluster
 * (`scripts/postgres.sh start`) with a database of its own, recreated empty on every run so runs are
 * comparable. Also reads the CPU time of that cluster's server processes from /proc.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const BENCH_DATABASE = 'soma_peer_bench';

export interface BenchPostgres {
  url: string;
  /** How the URL was chosen, for the report. */
  source: string;
}

export async function benchPostgres(repoRoot: string, env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = () => undefined): Promise<BenchPostgres> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'DATABASE_URL' };
  log('no DATABASE_URL: starting the checkout PostgreSQL (scripts/postgres.sh start)');
  const out = execFileSync('bash', [path.join(repoRoot, 'scripts/postgres.sh'), 'start'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const base = out.trim().split('\n').pop()!;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${BENCH_DATABASE}`;
  return { url: url.toString(), source: `scripts/postgres.sh (database ${BENCH_DATABASE}, recreated)` };
}

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
  /** pid of the postmaster, when it runs on this machine (for CPU accounting); null otherwise. */
  postmasterPid: number | null;
}

export async function serverInfo(url: string): Promise<ServerInfo> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const version = String((await client.query('select version() as v')).rows[0].v).split(' on ')[0]!;
    const settings: Record<string, string> = {};
    for (const name of ['fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers']) settings[name] = String((await client.query(`show ${name}`)).rows[0][name]);
    const backend = Number((await client.query('select pg_backend_pid() as pid')).rows[0].pid);
    const local = ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(new URL(url).hostname);
    return { version, settings, postmasterPid: local ? parentPid(backend) : null };
  } finally {
    await client.end();
  }
}

function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** utime+stime (ticks) of the postmaster and its children, by pid. */
export function clusterCpuTicks(postmasterPid: number | null): Map<number, number> {
  const ticks = new Map<number, number>();
  if (postmasterPid === null) return ticks;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      if (pid !== postmasterPid && Number(fields[1]) !== postmasterPid) continue;
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

/** CPU milliseconds the cluster spent since `before` (Linux USER_HZ = 100). */
export function clusterCpuMsSince(postmasterPid: number | null, before: Map<number, number>): number | null {
  if (postmasterPid === null) return null;
  let delta = 0;
  for (const [pid, t] of clusterCpuTicks(postmasterPid)) delta += t - (before.get(pid) ?? 0);
  return delta * 10;
}
