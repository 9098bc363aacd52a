/**
 * Embedded-mode cold start (`soma serve` → /readyz 200) and idle RSS without a local model loaded
 * (SPEC §10: < 5 s, < 200 MB). First start (new data folder: PGlite initialises its cluster) and
 * warm start (existing data folder) are reported separately.
 * Usage: node --import tsx bench/cold-start.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface StartResult {
  kind: string;
  ready_ms: number;
  idle_rss_mb: number;
}

async function startOnce(dataDir: string, kind: string): Promise<StartResult> {
  const script = path.join(dataDir, '..', 'script.json');
  writeFileSync(script, JSON.stringify({ turns: [{ iterations: [{ text: 'ok' }] }] }));
  const started = performance.now();
  const child = spawn('node', ['bin/soma.mjs', 'serve', '--port', '0', '--host', '127.0.0.1', '--no-pull'], {
    env: { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${script}`, SOMA_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /"port":(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`soma exited ${code}`)));
    });
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 5_000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { kind, ready_ms: Math.round(readyMs), idle_rss_mb: Math.round(rssKb / 1024) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function measureColdStart(): Promise<StartResult[]> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'soma-cold-'));
  const dataDir = path.join(base, 'data');
  return [await startOnce(dataDir, 'first start (new data folder)'), await startOnce(dataDir, 'start (existing data folder)'), await startOnce(dataDir, 'start (existing data folder)')];
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await measureColdStart());
