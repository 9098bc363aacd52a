import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createSoma, type Soma } from '../../src/main.js';
import type { Script } from '../../src/adapters/model/scripted/index.js';
import type { Database } from '../../src/adapters/store/index.js';
import type { ModelFactory } from '../../src/ports/model-factory.js';
import type { Clock } from '../../src/ports/clock.js';
import { freshDatabase, type Driver } from './databases.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * The orchestration tests' scripted turns are written to need a second look (exit reasons, replay of
 * several iterations): they pin the convergence threshold at SPEC §3's original 0.9. The default
 * chosen by `soma eval` (core/turn DEFAULT_CONVERGENCE_THRESHOLD) stops at the first draft that fails
 * no check. A test of the defaults passes `SA01_RLM_CONVERGENCE_THRESHOLD: ''`.
 */
export const ORCHESTRATION_ENV = { SA01_RLM_CONVERGENCE_THRESHOLD: '0.9' } as const;

export interface TestSoma {
  soma: Soma;
  /** Calls the app in-process (no port). */
  request(method: string, route: string, options?: { body?: unknown; rawBody?: string; key?: string; headers?: Record<string, string> }): Promise<Response>;
  /** A tenant with its API key. */
  tenant(name?: string): Promise<{ id: string; api_key: string }>;
  /** Another API key of the tenant, for another user. */
  apiKey(tenantId: string, userId: string): Promise<string>;
  scriptFile: string;
  /** The test's database (shared by a restarted Soma). */
  database: Database;
  /** Stops this Soma (its in-process state is gone, as after a process restart) and starts a new one on the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** An in-process Soma on a fresh database with the scripted model (or `models`, e.g. a spy around it). */
export async function startTestSoma({
  driver,
  script,
  env = {},
  models,
  logLines,
  clock,
}: {
  driver: Driver;
  script: Script;
  env?: Record<string, string>;
  models?: (config: ReturnType<typeof loadConfig>) => ModelFactory;
  /** Collect every line of the process logger (level `SOMA_LOG_LEVEL` of `env`, default trace) here instead of discarding them. */
  logLines?: string[];
  /** The server's clock (default the system's). */
  clock?: Clock;
}): Promise<TestSoma> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-test-'));
  const scriptFile = path.join(dir, 'script.json');
  writeFileSync(scriptFile, JSON.stringify(script));
  const { database, drop } = await freshDatabase(driver);
  const config = loadConfig({ SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_DATA_DIR: dir, SOMA_LOG_LEVEL: logLines ? 'trace' : 'silent', ...ORCHESTRATION_ENV, ...env });
  const start = () =>
    createSoma({
      config,
      database,
      ...(models ? { models: models(config) } : {}),
      ...(clock ? { clock } : {}),
      ...(logLines ? { logStream: { write: (line: string) => void logLines.push(line) } } : { logger: pino({ level: 'silent' }) }),
    });
  let soma = await start();
  const request: TestSoma["request"] = async (method, route, { body, rawBody, key, headers = {} } = {}) =>
    soma.app.request(route, {
      method,
      headers: { ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(rawBody !== undefined ? { body: rawBody } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const handle: TestSoma = {
    soma,
    request,
    scriptFile,
    database,
    tenant: async (name = 'acme') => (await (await request('POST', '/v1/admin/tenants', { body: { name }, key: ADMIN_TOKEN })).json()) as { id: string; api_key: string },
    apiKey: async (tenantId, userId) => ((await (await request('POST', `/v1/admin/tenants/${tenantId}/api-keys`, { body: { user_id: userId }, key: ADMIN_TOKEN })).json()) as { api_key: string }).api_key,
    restart: async () => {
      await soma.close();
      soma = await start();
      handle.soma = soma;
    },
    close: async () => {
      await soma.close();
      await drop();
    },
  };
  return handle;
}

/** One parsed SSE event; `id` is the event's `id:` field. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
  id?: number;
}

/** Parses SSE text into events (comments such as `: ping` are left out). */
export function parseEvents(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\n\n/)) {
    const event = /^event: ?(.*)$/m.exec(block)?.[1];
    const data = /^data: ?(.*)$/m.exec(block)?.[1];
    const id = /^id: ?(.*)$/m.exec(block)?.[1];
    if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown>, ...(id !== undefined ? { id: Number(id) } : {}) });
  }
  return events;
}

/** Parses an SSE response body into `{event, data, id}`. */
export async function readEvents(response: Response): Promise<SseEvent[]> {
  return parseEvents(await response.text());
}

/** `soma serve` as a child process on a free loopback port; resolves once it listens. */
export function spawnServer(env: NodeJS.ProcessEnv, args: string[] = ['--no-pull']): Promise<{ child: ChildProcessWithoutNullStreams; url: string; port: number; stop: () => Promise<void> }> {
  const child = spawn('node', [path.resolve('bin/soma.mjs'), 'serve', '--port', '0', '--host', '127.0.0.1', ...args], { env: { ...ORCHESTRATION_ENV, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"port":(\d+)/.exec(out);
      if (match) {
        const port = Number(match[1]);
        resolve({
          child,
          port,
          url: `http://127.0.0.1:${port}`,
          stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`soma serve exited ${code}: ${out}`)));
  });
}
