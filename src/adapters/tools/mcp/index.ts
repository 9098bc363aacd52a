export { connectMcpTools, mcpCapabilityConfig, type McpServerConfig, type McpToolConnections, type McpToolsOptions } from './mcp-tools.js';
