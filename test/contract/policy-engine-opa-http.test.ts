import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createOpaHttpPolicy } from '../../src/adapters/policy/index.js';
import type { PolicyInput } from '../../src/ports/tools.js';
import { services, skipWithout } from '../support/services.js';
import { describePolicyEngineContract } from './policy-engine.contract.js';

const regoPath = fileURLToPath(new URL('../../policy/soma/tools.rego', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `opa run --server` on a random loopback port with the shipped Rego loaded. */
async function startOpa({ withPolicy = true } = {}): Promise<{ url: string; process: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const args = ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', ...(withPolicy ? [regoPath] : [])];
  const child = spawn(services.opaBin!, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`opa exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`opa not ready on ${url}: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, process: child, stop };
}

const noOpa = skipWithout('opaBin');

describe.skipIf(noOpa)('OPA server', () => {
  describePolicyEngineContract('OPA server (opa run --server)', async () => {
    const opa = await startOpa();
    return { engine: createOpaHttpPolicy({ url: opa.url }), teardown: opa.stop };
  });

  it('denies every tool once the OPA server is stopped (fail closed)', async () => {
    const opa = await startOpa();
    const engine = createOpaHttpPolicy({ url: opa.url, timeoutMs: 1_000 });
    const input: PolicyInput = {
      action: 'tool.execute',
      tenant: 't',
      capsule: { id: 'c', tools: ['calculator'], tool_policy: {} },
      user: 'u',
      tool: 'calculator',
      args: {},
      iteration: 0,
    };
    expect((await engine.decide(input)).allow).toBe(true);
    await opa.stop();
    for (const tool of ['calculator', 'echo', 'http_fetch']) {
      const decision = await engine.decide({ ...input, tool });
      expect(decision.allow).toBe(false);
      expect(decision.reason).toMatch(/^policy engine unavailable: .*unreachable/);
    }
  });

  it('denies when the server runs without the soma.tools policy', async () => {
    const opa = await startOpa({ withPolicy: false });
    try {
      const decision = await createOpaHttpPolicy({ url: opa.url }).decide({
        action: 'tool.execute', tenant: 't', capsule: { id: 'c', tools: ['calculator'], tool_policy: {} },
        user: 'u', tool: 'calculator', args: {}, iteration: 0,
      });
      expect(decision).toMatchObject({ allow: false, engine: 'opa-http' });
      expect(decision.reason).toContain('no soma.tools decision');
    } finally {
      await opa.stop();
    }
  });
});
