import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';
import { executingProcesses, executions, newCounterFile, startHttpCounterServer, stdioServer } from '../../../../test/fixtures/mcp-counter-server.helpers.js';
import { createEgressPolicy } from '../../egress/index.js';
import { createMcpServerRegistry, type McpServerConfig, type McpServerRegistry } from './index.js';

const context = { tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal };
const mcp = (name: string, server: unknown, tool?: string): CapabilityConfig => ({ name, kind: 'mcp', enabled: true, config: { server, ...(tool ? { tool } : {}) } });
const byName = (tools: Tool[], name: string) => tools.find((tool) => tool.definition.name === name)!;
/** The operator lets MCP reach the loopback fixtures. */
const egress = createEgressPolicy({ allow: ['127.0.0.1'] });
afterAll(() => egress.close());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each([
  ['stdio', async (counterFile: string) => ({ server: stdioServer(counterFile) as McpServerConfig, stop: async () => undefined })],
  ['streamable HTTP', async (counterFile: string) => {
    const fixture = await startHttpCounterServer(counterFile);
    return { server: { transport: 'http', url: fixture.url } as McpServerConfig, stop: fixture.stop };
  }],
])('registered MCP server over %s', (_label, start) => {
  const counterFile = newCounterFile();
  let stop: () => Promise<void>;
  let registry: McpServerRegistry;
  let tools: Tool[];

  beforeAll(async () => {
    const started = await start(counterFile);
    stop = started.stop;
    registry = createMcpServerRegistry({ servers: { counter: started.server }, fetch: egress.fetch });
    tools = await registry.tools([mcp('echo', 'counter'), mcp('plus', 'counter', 'add'), mcp('fail', 'counter'), mcp('nope', 'counter')]);
  });
  afterAll(async () => {
    await registry?.close();
    await stop?.();
  });

  it('lists its name and takes the input schema and description from the server', () => {
    expect(registry.names()).toEqual(['counter']);
    const plus = byName(tools, 'plus').definition;
    expect(plus.description).toBe('Adds two numbers.');
    expect(plus.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
  });

  it('calls the remote tool (under its remote name) and returns its result', async () => {
    expect(await byName(tools, 'plus').execute({ a: 2, b: 3 }, context)).toEqual({ sum: 5 });
    expect(await byName(tools, 'echo').execute({ text: 'hi there' }, context)).toBe('hi there');
    expect(executions(counterFile, 'add')).toBe(1);
    expect(executions(counterFile, 'echo')).toBe(1);
  });

  it('turns an MCP error result into a failure', async () => {
    await expect(byName(tools, 'fail').execute({ message: 'boom' }, context)).rejects.toThrow('boom');
  });

  it('a tool the server does not have fails when called, naming the tools it has', async () => {
    await expect(byName(tools, 'nope').execute({}, context)).rejects.toThrow('MCP server "counter" has no tool "nope" (it has: echo, add, fail, sleep)');
  });

  it('reuses the connection in the next turn', async () => {
    const again = await registry.tools([mcp('echo', 'counter')]);
    await byName(again, 'echo').execute({ text: 'second turn' }, context);
    expect(registry.connected()).toBe(1);
    expect(executingProcesses(counterFile)).toHaveLength(1);
  });
});

describe('MCP server registry: the pool', () => {
  it('stdio: one process serves many turns; after it dies the next use reconnects; shutdown stops it', async () => {
    const counterFile = newCounterFile();
    const registry = createMcpServerRegistry({ servers: { counter: stdioServer(counterFile) } });
    try {
      for (let turn = 0; turn < 3; turn += 1) {
        const tools = await registry.tools([mcp('echo', 'counter'), mcp('add', 'counter')]);
        await byName(tools, 'echo').execute({ text: `turn ${turn}` }, context);
        await byName(tools, 'add').execute({ a: turn, b: 1 }, context);
      }
      expect(executions(counterFile)).toBe(6);
      const [first] = executingProcesses(counterFile);
      expect(executingProcesses(counterFile)).toEqual([first]);

      // The server process dies between turns: the pool notices, and the next turn gets a new one.
      process.kill(first!, 'SIGKILL');
      await expect.poll(() => registry.connected(), { timeout: 10_000 }).toBe(0);
      const tools = await registry.tools([mcp('echo', 'counter')]);
      expect(await byName(tools, 'echo').execute({ text: 'back' }, context)).toBe('back');
      const pids = executingProcesses(counterFile);
      expect(pids).toHaveLength(2);

      await registry.close();
      await expect.poll(() => alive(pids[1]!), { timeout: 10_000 }).toBe(false);
      await expect(byName(tools, 'echo').execute({ text: 'after shutdown' }, context)).rejects.toThrow(/shutting down/);
    } finally {
      await registry.close();
    }
  });

  it('a tool loaded before the server died reconnects when called', async () => {
    const counterFile = newCounterFile();
    const registry = createMcpServerRegistry({ servers: { counter: stdioServer(counterFile) } });
    try {
      const tools = await registry.tools([mcp('echo', 'counter')]);
      await byName(tools, 'echo').execute({ text: 'one' }, context);
      process.kill(executingProcesses(counterFile)[0]!, 'SIGKILL');
      await expect.poll(() => registry.connected(), { timeout: 10_000 }).toBe(0);
      expect(await byName(tools, 'echo').execute({ text: 'two' }, context)).toBe('two');
      expect(executingProcesses(counterFile)).toHaveLength(2);
    } finally {
      await registry.close();
    }
  });
});

describe('MCP server registry: refusals', () => {
  it('an inline server object or an unknown name is refused and nothing is spawned', async () => {
    const marker = `${newCounterFile()}.spawned`;
    const inline = { transport: 'stdio', command: process.execPath, args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'pwned')`] };
    const registry = createMcpServerRegistry({ servers: { counter: stdioServer(newCounterFile()) } });
    try {
      const tools = await registry.tools([mcp('x', inline), mcp('y', 'not-registered'), mcp('z', { transport: 'http', url: 'http://127.0.0.1:1/mcp' })]);
      await expect(byName(tools, 'x').execute({}, context)).rejects.toMatchObject({ code: 'MCP_SERVER_UNKNOWN', message: expect.stringContaining('not a server definition') });
      await expect(byName(tools, 'y').execute({}, context)).rejects.toMatchObject({ code: 'MCP_SERVER_UNKNOWN', message: expect.stringContaining('no MCP server named "not-registered"') });
      await expect(byName(tools, 'z').execute({}, context)).rejects.toMatchObject({ code: 'MCP_SERVER_UNKNOWN' });
      expect(registry.connected()).toBe(0);
      await sleep(500);
      expect(existsSync(marker)).toBe(false);
    } finally {
      await registry.close();
    }
  });

  it('an unreachable server does not fail the load; its tools fail with the reason; stderr goes to the operator log only', async () => {
    const warnings: object[] = [];
    const registry = createMcpServerRegistry({
      servers: {
        down: { transport: 'http', url: 'http://127.0.0.1:1/mcp' },
        broken: { transport: 'stdio', command: process.execPath, args: ['-e', 'process.stderr.write("cannot start: TOKEN=abc"); process.exit(3)'] },
      },
      fetch: egress.fetch,
      connectTimeoutMs: 5_000,
      logger: { info: () => undefined, warn: (obj) => void warnings.push(obj) },
    });
    try {
      const tools = await registry.tools([mcp('remote_echo', 'down'), mcp('broken', 'broken')]);
      await expect(byName(tools, 'remote_echo').execute({}, context)).rejects.toThrow(/^MCP server "down" unavailable: /);
      const error = (await byName(tools, 'broken').execute({}, context).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/^MCP server "broken" unavailable: /);
      expect(error.message).not.toContain('TOKEN');
      expect(warnings).toContainEqual({ mcp_server: 'broken', stderr: 'cannot start: TOKEN=abc' });
    } finally {
      await registry.close();
    }
  });

  it('a failed server is not tried again for retryAfterMs', async () => {
    const marker = `${newCounterFile()}.starts`;
    let now = 1_000_000;
    const registry = createMcpServerRegistry({
      servers: { broken: { transport: 'stdio', command: process.execPath, args: ['-e', `require('fs').appendFileSync(${JSON.stringify(marker)}, 'x'); process.exit(3)`] } },
      retryAfterMs: 5_000,
      now: () => now,
    });
    const starts = () => (existsSync(marker) ? readFileSync(marker, 'utf8').length : 0);
    try {
      await registry.tools([mcp('b', 'broken')]);
      await registry.tools([mcp('b', 'broken')]);
      expect(starts()).toBe(1);
      now += 5_000;
      await registry.tools([mcp('b', 'broken')]);
      expect(starts()).toBe(2);
    } finally {
      await registry.close();
    }
  });

  it('an HTTP server on an address the egress policy refuses is never contacted', async () => {
    const counterFile = newCounterFile();
    const fixture = await startHttpCounterServer(counterFile);
    const strict = createEgressPolicy();
    const registry = createMcpServerRegistry({ servers: { loopback: { transport: 'http', url: fixture.url } }, fetch: strict.fetch });
    try {
      const [tool] = await registry.tools([mcp('echo', 'loopback')]);
      await expect(tool!.execute({ text: 'x' }, context)).rejects.toThrow(/^MCP server "loopback" unavailable: egress refused: 127\.0\.0\.1 is not a public address \(loopback\)/);
      expect(executions(counterFile)).toBe(0);
    } finally {
      await registry.close();
      await strict.close();
      await fixture.stop();
    }
  });
});
