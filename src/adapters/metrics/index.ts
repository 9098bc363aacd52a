export { createMetrics, type Metrics } from './prom-metrics.js';
