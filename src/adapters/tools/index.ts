export { createToolRunner, type ToolMetricsSink, type ToolRunnerOptions } from './tool-runner.js';
export { createConcurrencyLimiter, type ConcurrencyLimiter } from './concurrency-limiter.js';
export * from './builtin/index.js';
// MCP is imported from './mcp/index.js' where needed: the SDK loads only for capsules with MCP tools.
