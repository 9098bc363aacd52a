/**
 * An idle `soma serve` holds what serving needs (SPEC §13.6): it gives start-up's garbage back, and
 * it loads the local model on the first turn that uses it, unless `SOMA_MODEL_PRELOAD=true`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { services, skipWithout } from '../support/services.js';
import { spawnServer } from '../support/soma.js';

type Server = Awaited<ReturnType<typeof spawnServer>>;

/** Every JSON log line the server prints from now on. */
function logLines(server: Server) {
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  server.child.stdout.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const waitFor = async (msg: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = lines.find((l) => l.msg === msg);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  };
  return { lines, waitFor };
}

describe('an idle server', () => {
  it('compacts its heap shortly after start and says how much it gave back', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-idle-'));
    const script = path.join(dataDir, 'script.json');
    writeFileSync(script, JSON.stringify({ turns: [{ iterations: [{ text: 'ok' }] }] }));
    const server = await spawnServer({ ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${script}`, SOMA_LOG_LEVEL: 'info' });
    try {
      const log = logLines(server);
      const compacted = await log.waitFor('idle: heap compacted', 20_000);
      expect(compacted).toBeDefined();
      expect(Number(compacted!.rssAfterMb)).toBeLessThan(Number(compacted!.rssBeforeMb));
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 90_000);
});

describe.skipIf(skipWithout('modelPath'))('the local model of an idle server', () => {
  const start = (preload?: string) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-preload-'));
    return spawnServer({ ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `local:${services.modelPath}`, SOMA_LOG_LEVEL: 'info', ...(preload ? { SOMA_MODEL_PRELOAD: preload } : {}) }, []);
  };

  it('is not loaded until a turn needs it', async () => {
    const server = await start();
    try {
      const log = logLines(server);
      expect(await log.waitFor('idle: heap compacted', 20_000)).toBeDefined();
      expect(await log.waitFor('local model loaded', 5_000)).toBeUndefined();
    } finally {
      await server.stop();
    }
  }, 90_000);

  it('is loaded at start with SOMA_MODEL_PRELOAD=true', async () => {
    const server = await start('true');
    try {
      const log = logLines(server);
      expect(await log.waitFor('local model loaded', 60_000)).toBeDefined();
    } finally {
      await server.stop();
    }
  }, 90_000);
});
