import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { JsonSchema, JsonValue } from '../../../shared/json.js';
import type { McpServerConfig } from './mcp-server-config.js';

const clientInfo = { name: 'soma', version: '0.1.0' };

export interface RemoteTool {
  description?: string;
  inputSchema: JsonSchema;
}

/** One live connection to a registered MCP server (shared by every turn that uses the server). */
export interface McpConnection {
  /** The server's tools, kept current when it announces a change. */
  readonly remoteTools: ReadonlyMap<string, RemoteTool>;
  callTool(name: string, args: Record<string, unknown>, options: { signal: AbortSignal; timeoutMs: number }): Promise<JsonValue>;
  close(): Promise<void>;
}

export interface ConnectMcpServerOptions {
  server: McpServerConfig;
  /** The egress policy's fetch, for the HTTP transport. */
  fetch: typeof globalThis.fetch;
  timeoutMs: number;
  /** Called once when the connection ends (the process exited, the transport failed, close()). */
  onClose: () => void;
  /** The last lines the stdio server wrote to stderr when it failed (operator log only). */
  onStderr?: (tail: string) => void;
}

/** Connects to an MCP server and lists its tools; throws when it cannot. */
export async function connectMcpServer({ server, fetch, timeoutMs, onClose, onStderr }: ConnectMcpServerOptions): Promise<McpConnection> {
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
    transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers ?? {} }, fetch });
  }

  const remoteTools = new Map<string, RemoteTool>();
  const listTools = async () => {
    const listed = new Map<string, RemoteTool>();
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
      for (const tool of page.tools) listed.set(tool.name, { description: tool.description, inputSchema: tool.inputSchema as JsonSchema });
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    remoteTools.clear();
    for (const [name, tool] of listed) remoteTools.set(name, tool);
  };

  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    if (stderrTail.trim() !== '') onStderr?.(stderrTail.trim().split('\n').slice(-5).join(' | '));
    onClose();
  };
  client.onclose = end;
  try {
    await client.connect(transport, { timeout: timeoutMs });
    await listTools();
  } catch (error) {
    await client.close().catch(() => undefined);
    end();
    throw error;
  }
  client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    await listTools().catch(() => undefined);
  });

  return {
    remoteTools,
    async callTool(name, args, { signal, timeoutMs: callTimeoutMs }) {
      let result: Awaited<ReturnType<Client['callTool']>>;
      try {
        // The runner enforces the tool timeout through the signal; the SDK's own deadline is a backstop.
        result = await client.callTool({ name, arguments: args }, undefined, { signal, timeout: callTimeoutMs });
      } catch (error) {
        // A transport that failed (not a slow or cancelled call) is dropped: the next use reconnects.
        if (!signal.aborted && !(error instanceof McpError && error.code === ErrorCode.RequestTimeout)) {
          await client.close().catch(() => undefined);
          end();
        }
        throw error;
      }
      if ('toolResult' in result) return toJson(result.toolResult);
      const content = (result.content ?? []) as { type: string; text?: string }[];
      if (result.isError) throw new Error(textOf(content) || `MCP tool ${name} reported an error`);
      if (result.structuredContent !== undefined) return toJson(result.structuredContent);
      if (content.every((item) => item.type === 'text')) return textOf(content);
      return toJson(content);
    },
    close: async () => {
      await client.close().catch(() => undefined);
      end();
    },
  };
}

function textOf(content: { type: string; text?: string }[]): string {
  return content.filter((item) => item.type === 'text').map((item) => item.text ?? '').join('\n');
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
