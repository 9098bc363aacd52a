export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';
export { isRepeatedToolCall, type ToolCallKey } from './is-repeated-tool-call.js';
export { capResultSize, truncationMarker, type CappedResult } from './cap-result-size.js';
