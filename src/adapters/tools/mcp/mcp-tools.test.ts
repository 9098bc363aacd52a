import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';
import { executingProcesses, executions, newCounterFile, startHttpCounterServer, stdioServer } from '../../../../test/fixtures/mcp-counter-server.helpers.js';
import { connectMcpTools, type McpServerConfig } from './mcp-tools.js';

const context = { tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal };
const mcp = (name: string, server: McpServerConfig, tool?: string): CapabilityConfig => ({
  name, kind: 'mcp', enabled: true, config: { server, ...(tool ? { tool } : {}) },
});
const byName = (tools: Tool[], name: string) => tools.find((tool) => tool.definition.name === name)!;

describe.each([
  ['stdio', async (counterFile: string) => ({ server: stdioServer(counterFile) as McpServerConfig, stop: async () => undefined })],
  ['streamable HTTP', async (counterFile: string) => {
    const fixture = await startHttpCounterServer(counterFile);
    return { server: { transport: 'http', url: fixture.url } as McpServerConfig, stop: fixture.stop };
  }],
])('MCP tools over %s', (_label, start) => {
  const counterFile = newCounterFile();
  let server: McpServerConfig;
  let stop: () => Promise<void>;
  let connections: Awaited<ReturnType<typeof connectMcpTools>>;

  beforeAll(async () => {
    ({ server, stop } = await start(counterFile));
    connections = await connectMcpTools({ capabilities: [mcp('echo', server), mcp('plus', server, 'add'), mcp('fail', server), mcp('nope', server)] });
  });
  afterAll(async () => {
    await connections?.close();
    await stop?.();
  });

  it('takes the input schema and description from the server', () => {
    const plus = byName(connections.tools, 'plus').definition;
    expect(plus.description).toBe('Adds two numbers.');
    expect(plus.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
  });

  it('calls the remote tool (under its remote name) and returns its result', async () => {
    expect(await byName(connections.tools, 'plus').execute({ a: 2, b: 3 }, context)).toEqual({ sum: 5 });
    expect(await byName(connections.tools, 'echo').execute({ text: 'hi there' }, context)).toBe('hi there');
    expect(executions(counterFile, 'add')).toBe(1);
    expect(executions(counterFile, 'echo')).toBe(1);
  });

  it('turns an MCP error result into a failure', async () => {
    await expect(byName(connections.tools, 'fail').execute({ message: 'boom' }, context)).rejects.toThrow('boom');
  });

  it('a tool the server does not have fails when called, naming the tools it has', async () => {
    await expect(byName(connections.tools, 'nope').execute({}, context)).rejects.toThrow(/has no tool "nope" \(it has: echo, add, fail, sleep\)/);
  });
});

describe('connectMcpTools', () => {
  it('shares one client per server', async () => {
    const counterFile = newCounterFile();
    const server = stdioServer(counterFile);
    const connections = await connectMcpTools({ capabilities: [mcp('echo', server), mcp('add', server)] });
    try {
      await byName(connections.tools, 'echo').execute({ text: 'a' }, context);
      await byName(connections.tools, 'add').execute({ a: 1, b: 1 }, context);
      expect(executions(counterFile)).toBe(2);
      expect(executingProcesses(counterFile)).toHaveLength(1);
    } finally {
      await connections.close();
    }
  });

  it('an unreachable server does not fail the load; its tools fail with the reason', async () => {
    const connections = await connectMcpTools({
      capabilities: [
        mcp('remote_echo', { transport: 'http', url: 'http://127.0.0.1:1/mcp' }),
        mcp('broken', { transport: 'stdio', command: process.execPath, args: ['-e', 'process.stderr.write("cannot start"); process.exit(3)'] }),
      ],
      connectTimeoutMs: 5_000,
    });
    await expect(byName(connections.tools, 'remote_echo').execute({}, context)).rejects.toThrow(/MCP server http:\/\/127\.0\.0\.1:1 \(http\) unavailable/);
    await expect(byName(connections.tools, 'broken').execute({}, context)).rejects.toThrow(/unavailable: .*cannot start/);
    await connections.close();
  });

  it('rejects a malformed server configuration', async () => {
    await expect(connectMcpTools({ capabilities: [{ name: 'x', kind: 'mcp', enabled: true, config: {} }] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'MCP tool "x": config.server is missing',
    });
    await expect(
      connectMcpTools({ capabilities: [{ name: 'x', kind: 'mcp', enabled: true, config: { server: { transport: 'ws', url: 'ws://x' } } }] }),
    ).rejects.toThrow(/transport must be "stdio" or "http"/);
  });
});
