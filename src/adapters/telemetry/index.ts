export { startTracing } from './otel-tracing.js';
