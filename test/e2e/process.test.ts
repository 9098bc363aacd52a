import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { spawnServer } from '../support/soma.js';

const run = promisify(execFile);
const bin = path.resolve('bin/soma.mjs');

async function fails(args: string[], env: Record<string, string>) {
  return run('node', [bin, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
}

describe('soma as a process', () => {
  it('stops with one clear line naming a wrong variable', async () => {
    const result = await fails(['serve', '--no-pull'], { SA01_RLM_MAX_ITERATIONS: 'lots', SOMA_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'soma-')) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('SA01_RLM_MAX_ITERATIONS must be a whole number from 1 to 10');
  });

  it('exits 1 with a clear message when the database cannot be reached', async () => {
    const result = await fails(['migrate'], { DATABASE_URL: 'postgres://soma:soma@127.0.0.1:9/nowhere' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^soma: DATABASE_UNAVAILABLE: cannot reach PostgreSQL/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('serves with no configuration on the embedded database and creates a local API key', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-'));
    const server = await spawnServer({ ...process.env, SOMA_DATA_DIR: dataDir, SOMA_LOG_LEVEL: 'info' });
    const port = server.port;
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const key = readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
      const capsules = await fetch(`http://127.0.0.1:${port}/v1/capsules`, { headers: { authorization: `Bearer ${key}` } });
      expect(capsules.status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it.runIf(process.platform === 'linux')('a long-running server gives freed malloc memory back (fixed trim threshold, same pid, same output); an operator setting is kept', async () => {
    const environOf = (pid: number) => new Map(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
    const env: NodeJS.ProcessEnv = { ...process.env, SOMA_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'soma-')) };
    delete env.MALLOC_TRIM_THRESHOLD_;
    delete env.GLIBC_TUNABLES;
    delete env.SOMA_MALLOC_DEFAULTS;
    const server = await spawnServer(env);
    try {
      // The pid the parent spawned is the server that listens: the process replaced itself.
      expect(environOf(server.child.pid!).get('MALLOC_TRIM_THRESHOLD_')).toBe('65536');
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(server.child.exitCode).toBe(0);

    const own = await spawnServer({ ...env, MALLOC_TRIM_THRESHOLD_: '1048576' });
    try {
      expect(environOf(own.child.pid!).get('MALLOC_TRIM_THRESHOLD_')).toBe('1048576');
    } finally {
      await own.stop();
    }
    const defaults = await spawnServer({ ...env, SOMA_MALLOC_DEFAULTS: '1' });
    try {
      expect(environOf(defaults.child.pid!).has('MALLOC_TRIM_THRESHOLD_')).toBe(false);
    } finally {
      await defaults.stop();
    }
    // Short commands are not replaced.
    const version = await run('node', [bin, '--version'], { env });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  }, 90_000);

  it('soma chat: an interactive session streams each turn and keeps its conversation', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-'));
    const { writeFileSync } = await import('node:fs');
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ match: 'weather', iterations: [{ text: 'I cannot see outside.', confidence: 0.7, final: true }] }, { iterations: [{ text: 'Hi there!', confidence: 0.8, final: true }] }] }));
    const env = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${scriptFile}` };
    const server = await spawnServer(env);
    const port = server.port;
    try {
      const chat = spawn('node', [bin, 'chat', '--url', `http://127.0.0.1:${port}`], { env });
      let output = '';
      chat.stdout.on('data', (c: Buffer) => (output += c.toString()));
      chat.stdin.write('hello\n');
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (output.includes('Hi there!') && /iterations/.test(output)) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
      });
      chat.stdin.write('how is the weather?\n');
      chat.stdin.end();
      const code = await new Promise<number | null>((r) => chat.once('exit', r));
      expect(code).toBe(0);
      expect(output).toContain('Hi there!');
      expect(output).toContain('I cannot see outside.');
      expect(output).toMatch(/1 iterations · llm_completed/);
      const state = JSON.parse(readFileSync(path.join(dataDir, 'chat.json'), 'utf8')) as { conversation_id: string };
      const key = readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
      const messages = (await (await fetch(`http://127.0.0.1:${port}/v1/conversations/${state.conversation_id}/messages`, { headers: { authorization: `Bearer ${key}` } })).json()) as { messages: unknown[] };
      expect(messages.messages).toHaveLength(4);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
