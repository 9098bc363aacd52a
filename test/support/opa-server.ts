import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { services } from './services.js';

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

/** `opa run --server` on a random loopback port (or `port`) with the shipped Rego loaded. */
export async function startOpa({ withPolicy = true, port }: { withPolicy?: boolean; port?: number } = {}): Promise<{ url: string; port: number; process: ChildProcess; stop: () => Promise<void> }> {
  const listenPort = port ?? (await freePort());
  const args = ['run', '--server', '--addr', `127.0.0.1:${listenPort}`, '--log-level', 'error', ...(withPolicy ? [regoPath] : [])];
  const child = spawn(services.opaBin!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${listenPort}`;
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
  return { url, port: listenPort, process: child, stop };
}
