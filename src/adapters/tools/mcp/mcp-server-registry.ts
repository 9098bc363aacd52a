import { checkMcpToolReference } from '../../../core/admission/index.js';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';
import { SomaError } from '../../../shared/errors.js';
import type { McpConnection } from './mcp-connection.js';
import type { McpServerConfig } from './mcp-server-config.js';

export type { McpServerConfig } from './mcp-server-config.js';

/** Where MCP-related events go (the process logger); never given a server's config. */
export interface McpRegistryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface McpServerRegistryOptions {
  /** The registered servers by name. */
  servers?: Record<string, McpServerConfig>;
  /** The egress policy's fetch: HTTP servers are reached only where it allows. */
  fetch?: typeof globalThis.fetch;
  /** Deadline for connecting to a server and listing its tools. */
  connectTimeoutMs?: number;
  /** After a failed connection, the server is not tried again for this long (its tools fail at once). */
  retryAfterMs?: number;
  /** Milliseconds since the epoch (replaceable in tests). */
  now?: () => number;
  logger?: McpRegistryLogger;
}

/**
 * The operator's MCP servers (SPEC §13.1). Capsules refer to them by name; connections are made on
 * first use, shared by every capsule and turn that uses the server, made again after a failure, and
 * closed on shutdown. A capability with an inline server or an unregistered name never reaches a
 * server: its tool fails with `MCP_SERVER_UNKNOWN` and nothing is spawned or contacted.
 */
export interface McpServerRegistry {
  /** Names of the registered servers (admission checks and the catalogue). */
  names(): string[];
  /**
   * The tools of a capsule's `kind: "mcp"` capabilities, connecting to their servers if needed. A
   * server that cannot be reached, or lacks the named tool, does not fail the load: its tools fail
   * when called, with the reason, so the turn goes on and the breaker sees the failures.
   */
  tools(capabilities: CapabilityConfig[]): Promise<Tool[]>;
  /** How many servers are connected now. */
  connected(): number;
  /** Closes every connection; later uses fail. */
  close(): Promise<void>;
}

export function createMcpServerRegistry({
  servers = {},
  fetch = globalThis.fetch,
  connectTimeoutMs = 10_000,
  retryAfterMs = 5_000,
  now = Date.now,
  logger,
}: McpServerRegistryOptions = {}): McpServerRegistry {
  const names = Object.keys(servers);
  const pool = new Map<string, Promise<McpConnection>>();
  const lastFailure = new Map<string, { at: number; reason: string }>();
  let closed = false;

  const connection = (name: string): Promise<McpConnection> => {
    if (closed) return Promise.reject(new Error('the server is shutting down'));
    const pooled = pool.get(name);
    if (pooled) return pooled;
    const failure = lastFailure.get(name);
    if (failure && now() - failure.at < retryAfterMs) return Promise.reject(new Error(failure.reason));
    const server = servers[name]!;
    const connecting: Promise<McpConnection> = import('./mcp-connection.js').then(({ connectMcpServer }) =>
      connectMcpServer({
        server,
        fetch,
        timeoutMs: connectTimeoutMs,
        onClose: () => {
          if (pool.get(name) === connecting) pool.delete(name);
        },
        onStderr: (tail) => logger?.warn({ mcp_server: name, stderr: tail }, 'MCP server wrote to stderr before it stopped'),
      }),
    );
    pool.set(name, connecting);
    connecting.then(
      () => {
        lastFailure.delete(name);
        logger?.info({ mcp_server: name }, 'MCP server connected');
      },
      (error: Error) => {
        if (pool.get(name) === connecting) pool.delete(name);
        lastFailure.set(name, { at: now(), reason: error.message });
        logger?.warn({ mcp_server: name, err: { message: error.message } }, 'connecting to MCP server failed');
      },
    );
    return connecting;
  };

  const tools = async (capabilities: CapabilityConfig[]): Promise<Tool[]> => {
    const checked = capabilities.map((capability) => {
      const reference = checkMcpToolReference({ capability, servers: names });
      return reference.ok ? { capability, reference: reference.value } : { capability, refused: new SomaError(reference.error.code, reference.error.message, { details: reference.error.details }) };
    });
    const wanted = [...new Set(checked.flatMap((entry) => (entry.reference ? [entry.reference.server] : [])))];
    const connections = new Map(
      await Promise.all(
        wanted.map(async (name) => [name, await connection(name).then((c) => ({ ok: true as const, c }), (e: Error) => ({ ok: false as const, reason: e.message }))] as const),
      ),
    );
    return checked.map(({ capability, reference, refused }) => {
      if (!reference) return failingTool(capability, refused!);
      const outcome = connections.get(reference.server)!;
      if (!outcome.ok) return failingTool(capability, new Error(`MCP server "${reference.server}" unavailable: ${outcome.reason}`));
      const remote = outcome.c.remoteTools.get(reference.tool);
      if (!remote) {
        return failingTool(capability, new Error(`MCP server "${reference.server}" has no tool "${reference.tool}" (it has: ${[...outcome.c.remoteTools.keys()].join(', ')})`));
      }
      return {
        capability,
        definition: { name: capability.name, description: capability.description ?? remote.description ?? '', inputSchema: remote.inputSchema },
        async execute(args, context) {
          // The pooled connection may have ended since the load: connection() reconnects then.
          const live = await connection(reference.server).catch((error: Error) => {
            throw new Error(`MCP server "${reference.server}" unavailable: ${error.message}`);
          });
          return live.callTool(reference.tool, (args ?? {}) as Record<string, unknown>, { signal: context.signal, timeoutMs: (capability.timeout_ms ?? 60_000) + 5_000 });
        },
      } satisfies Tool;
    });
  };

  return {
    names: () => [...names],
    tools,
    connected: () => pool.size,
    async close() {
      closed = true;
      const open = [...pool.values()];
      pool.clear();
      await Promise.allSettled(open.map(async (connecting) => (await connecting).close()));
    },
  };
}

/** A tool whose calls fail with `error` (refused reference, unreachable server, missing remote tool). */
function failingTool(capability: CapabilityConfig, error: Error): Tool {
  return {
    capability,
    definition: { name: capability.name, description: capability.description ?? '', inputSchema: capability.input_schema ?? { type: 'object' } },
    async execute() {
      throw error;
    },
  };
}
