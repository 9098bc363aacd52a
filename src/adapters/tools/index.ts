export { createToolRunner, type ToolMetricsSink, type ToolRunnerOptions } from './tool-runner.js';
export { createConcurrencyLimiter, type ConcurrencyLimiter } from './concurrency-limiter.js';
export * from './builtin/index.js';
export * from './mcp/index.js';
