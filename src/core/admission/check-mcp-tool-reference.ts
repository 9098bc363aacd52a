import type { Failure } from '../../shared/errors.js';
import { ok, refuse as refuseWith, type Result } from '../../shared/result.js';

/** What a capsule's MCP tool points at: a server the operator registered, and the tool's name there. */
export interface McpToolReference {
  /** Name of the server in `SOMA_MCP_SERVERS`. */
  server: string;
  /** Name of the tool on that server (`config.tool`, else the capability's name). */
  tool: string;
}

export interface CheckMcpToolReferenceOptions {
  /** The capability as the capsule stores it: `{name, config: {server: "<name>", tool?}}`. */
  capability: { name: string; config?: Record<string, unknown> | null };
  /** Names of the servers the operator registered. */
  servers: Iterable<string>;
}

/**
 * Checks that an MCP capability names a registered server by name (SPEC §13.1): an inline server
 * object (`{transport, command…}`), a missing or non-string `config.server`, or a name the operator
 * did not register is refused with `MCP_SERVER_UNKNOWN`. Pure: it neither spawns nor contacts
 * anything, so the app can call it at capsule create/patch and the tool runner before connecting.
 * The message never echoes an inline object (it may carry commands or secrets).
 */
export function checkMcpToolReference({ capability, servers }: CheckMcpToolReferenceOptions): Result<McpToolReference, Failure> {
  const config = capability.config ?? {};
  const server = config.server;
  const registered = [...servers];
  const known = registered.length > 0 ? `registered servers: ${registered.join(', ')}` : 'no MCP servers are registered on this server';
  const refuse = (why: string) => refuseWith('MCP_SERVER_UNKNOWN', `MCP tool "${capability.name}": ${why} (${known})`, { tool: capability.name, servers: registered });
  if (server !== null && typeof server === 'object') return refuse('config.server must be the name of a registered MCP server, not a server definition');
  if (typeof server !== 'string' || server === '') return refuse('config.server must name a registered MCP server');
  if (!registered.includes(server)) return refuse(`no MCP server named ${JSON.stringify(server.slice(0, 64))} is registered`);
  const tool = config.tool ?? capability.name;
  if (typeof tool !== 'string' || tool === '') {
    return refuseWith('VALIDATION_FAILED', `MCP tool "${capability.name}": config.tool must be a non-empty string`, { tool: capability.name });
  }
  return ok({ server, tool });
}
