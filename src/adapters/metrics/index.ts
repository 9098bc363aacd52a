export { createMetrics, type Metrics, type MetricsOptions } from './prom-metrics.js';
