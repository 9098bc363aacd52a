import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createPostgresDatabase } from '../../test/support/databases.js';

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

export interface BenchServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `soma serve` as a child process on a free loopback port; resolves once it listens. */
export function startServer(env: Record<string, string | undefined>): Promise<BenchServer> {
  const child = spawn(process.execPath, [path.resolve('bin/soma.mjs'), 'serve', '--port', '0', '--host', '127.0.0.1', '--no-pull'], {
    env: { ...process.env, SOMA_ADMIN_TOKEN: BENCH_ADMIN_TOKEN, SOMA_ALLOW_SCRIPTED_MODELS: 'true', SOMA_LOG_LEVEL: 'info', KAFKA_BROKERS: '', OPA_URL: '', SOMA_BRAIN_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"port":(\d+)/.exec(out);
      if (!match) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({
        url: `http://127.0.0.1:${match[1]}`,
        child,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((done) => child.once('exit', done));
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`soma serve exited ${code}: ${out.slice(-2000)}`)));
  });
}

/** A new empty database on the PostgreSQL of `baseUrl`, and how to drop it. */
export function freshPostgres(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  return createPostgresDatabase(baseUrl, 'soma_bench');
}

/** JSON over HTTP with a bearer token; throws on a non-2xx answer. */
export async function api<T>(base: string, method: string, route: string, token: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
