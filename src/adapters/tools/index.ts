export { createToolRunner, toolMetricLabel, type ToolMetricsSink, type ToolRunnerOptions } from './tool-runner.js';
export { createConcurrencyLimiter, type ConcurrencyLimiter } from './concurrency-limiter.js';
export * from './builtin/index.js';
export { createMcpServerRegistry, type McpServerConfig, type McpServerRegistry, type McpServerRegistryOptions } from './mcp/index.js';
