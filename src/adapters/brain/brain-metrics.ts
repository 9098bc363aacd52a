/** Where the brain adapters report their measurements (the Prometheus adapter implements it). */
export interface BrainMetricsSink {
  /** One learning step's duration, for `somabrain_learning_latency_seconds`. */
  observeLearningLatency(seconds: number): void;
  /** A learning step that could not run because the brain was unavailable. */
  countLearningSkipped(): void;
}

/** Health of a brain as its last call saw it: `unknown` until the first call. */
export type BrainHealth = 'unknown' | 'healthy' | 'unhealthy';
