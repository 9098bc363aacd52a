// This module imports no MCP SDK code: the SDK loads on the first connection to a server.
export { createMcpServerRegistry, type McpRegistryLogger, type McpServerConfig, type McpServerRegistry, type McpServerRegistryOptions } from './mcp-server-registry.js';
