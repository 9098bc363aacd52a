import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';
import { SomaError } from '../../../shared/errors.js';
import { canonicalJson } from '../../../shared/hash.js';
import type { JsonSchema, JsonValue } from '../../../shared/json.js';

/** Where an MCP tool lives (`capability.config.server`). */
export type McpServerConfig =
  | { transport: 'stdio'; command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  | { transport: 'http'; url: string; headers?: Record<string, string> };

export interface McpToolsOptions {
  /** The capsule's `kind: 'mcp'` capabilities. */
  capabilities: CapabilityConfig[];
  /** Deadline for connecting to one server and listing its tools. */
  connectTimeoutMs?: number;
}

/** MCP tools of one turn plus the connections behind them (one client per distinct server). */
export interface McpToolConnections {
  tools: Tool[];
  close(): Promise<void>;
}

const clientInfo = { name: 'soma', version: '0.1.0' };

/** Reads and checks `config.server` / `config.tool`; a malformed capability is a configuration fault. */
export function mcpCapabilityConfig(capability: CapabilityConfig): { server: McpServerConfig; remoteName: string } {
  const config = capability.config ?? {};
  const server = config.server as Partial<McpServerConfig> | undefined;
  const invalid = (why: string) =>
    new SomaError('CONFIG_INVALID', `MCP tool "${capability.name}": ${why}`, { details: { tool: capability.name } });
  if (!server || typeof server !== 'object') throw invalid('config.server is missing');
  if (server.transport === 'stdio') {
    if (typeof server.command !== 'string' || server.command === '') throw invalid('config.server.command is required for stdio');
  } else if (server.transport === 'http') {
    if (typeof server.url !== 'string' || !URL.canParse(server.url)) throw invalid('config.server.url must be an absolute URL');
  } else {
    throw invalid(`config.server.transport must be "stdio" or "http", not ${JSON.stringify(server.transport)}`);
  }
  const remoteName = config.tool ?? capability.name;
  if (typeof remoteName !== 'string' || remoteName === '') throw invalid('config.tool must be a non-empty string');
  return { server: server as McpServerConfig, remoteName };
}

/**
 * Connects to the MCP servers of the given capabilities (in parallel, one client per server) and
 * turns each capability into a Tool whose input schema comes from the server's `listTools`.
 * A server that cannot be reached, or lacks the named tool, does not fail the load: its tools
 * fail when called, with the reason, so the turn goes on and the breaker sees the failures.
 */
export async function connectMcpTools({ capabilities, connectTimeoutMs = 10_000 }: McpToolsOptions): Promise<McpToolConnections> {
  const groups = new Map<string, { server: McpServerConfig; members: { capability: CapabilityConfig; remoteName: string }[] }>();
  for (const capability of capabilities) {
    const { server, remoteName } = mcpCapabilityConfig(capability);
    const key = canonicalJson(server);
    const group = groups.get(key) ?? { server, members: [] };
    group.members.push({ capability, remoteName });
    groups.set(key, group);
  }

  const clients: Client[] = [];
  const toolLists = await Promise.all(
    [...groups.values()].map(async ({ server, members }) => {
      let connection: { client: Client; remoteTools: Map<string, RemoteTool> };
      try {
        connection = await connect(server, connectTimeoutMs);
      } catch (error) {
        const reason = `MCP server ${describeServer(server)} unavailable: ${(error as Error).message}`;
        return members.map(({ capability }) => unavailableTool(capability, reason));
      }
      clients.push(connection.client);
      return members.map(({ capability, remoteName }) => {
        const remote = connection.remoteTools.get(remoteName);
        if (!remote) {
          return unavailableTool(capability, `MCP server ${describeServer(server)} has no tool "${remoteName}" (it has: ${[...connection.remoteTools.keys()].join(', ')})`);
        }
        return remoteTool(connection.client, capability, remoteName, remote);
      });
    }),
  );

  let closed: Promise<void> | undefined;
  return {
    tools: toolLists.flat(),
    close: () => (closed ??= Promise.allSettled(clients.map((client) => client.close())).then(() => undefined)),
  };
}

interface RemoteTool {
  description?: string;
  inputSchema: JsonSchema;
}

async function connect(server: McpServerConfig, timeoutMs: number): Promise<{ client: Client; remoteTools: Map<string, RemoteTool> }> {
  const client = new Client(clientInfo);
  let stderrTail = '';
  let transport: Transport;
  if (server.transport === 'stdio') {
    const stdio = new StdioClientTransport({
      command: server.command,
      args: server.args ?? [],
      env: { ...getDefaultEnvironment(), ...server.env },
      cwd: server.cwd,
      stderr: 'pipe',
    });
    stdio.stderr?.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-2_000)));
    transport = stdio;
  } else {
    transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers ?? {} } });
  }
  try {
    await client.connect(transport, { timeout: timeoutMs });
    const remoteTools = new Map<string, RemoteTool>();
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
      for (const tool of page.tools) remoteTools.set(tool.name, { description: tool.description, inputSchema: tool.inputSchema as JsonSchema });
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { client, remoteTools };
  } catch (error) {
    await client.close().catch(() => undefined);
    const detail = stderrTail.trim() ? ` (stderr: ${stderrTail.trim().split('\n').slice(-3).join(' | ')})` : '';
    throw new Error(`${(error as Error).message}${detail}`, { cause: error });
  }
}

function remoteTool(client: Client, capability: CapabilityConfig, remoteName: string, remote: RemoteTool): Tool {
  return {
    capability,
    definition: { name: capability.name, description: capability.description ?? remote.description ?? '', inputSchema: remote.inputSchema },
    async execute(args, context) {
      const result = await client.callTool(
        { name: remoteName, arguments: (args ?? {}) as Record<string, unknown> },
        undefined,
        // The runner enforces the tool timeout through the signal; the SDK's own deadline is a backstop.
        { signal: context.signal, timeout: (capability.timeout_ms ?? 60_000) + 5_000 },
      );
      if ('toolResult' in result) return toJson(result.toolResult);
      const content = (result.content ?? []) as { type: string; text?: string }[];
      if (result.isError) throw new Error(textOf(content) || `MCP tool ${remoteName} reported an error`);
      if (result.structuredContent !== undefined) return toJson(result.structuredContent);
      if (content.every((item) => item.type === 'text')) return textOf(content);
      return toJson(content);
    },
  };
}

function unavailableTool(capability: CapabilityConfig, reason: string): Tool {
  return {
    capability,
    definition: {
      name: capability.name,
      description: capability.description ?? '',
      inputSchema: capability.input_schema ?? { type: 'object' },
    },
    async execute() {
      throw new Error(reason);
    },
  };
}

function textOf(content: { type: string; text?: string }[]): string {
  return content.filter((item) => item.type === 'text').map((item) => item.text ?? '').join('\n');
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

function describeServer(server: McpServerConfig): string {
  return server.transport === 'stdio' ? `"${server.command}" (stdio)` : `${new URL(server.url).origin} (http)`;
}
