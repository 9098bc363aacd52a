export * from './local/index.js';
export * from './http/index.js';
export type { BrainHealth, BrainMetricsSink } from './brain-metrics.js';
