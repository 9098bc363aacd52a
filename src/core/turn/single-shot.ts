export interface IterationLimitsInput {
  capsule: { rlmEnabled: boolean; maxIterations: number; minIterations: number; threshold: number };
  env: { enabled: boolean; singleShot: boolean; maxIterations?: number; convergenceThreshold?: number };
}

export interface IterationLimits {
  minIterations: number;
  maxIterations: number;
  threshold: number;
  singleShot: boolean;
}

/**
 * Iteration limits of a turn: the capsule's, overridden by `SA01_RLM_MAX_ITERATIONS` and
 * `SA01_RLM_CONVERGENCE_THRESHOLD`; exactly one iteration when RLM is disabled by
 * `SA01_ENABLE_RLM=false`, `SA01_ENABLE_SINGLE_SHOT=true` or the capsule's `rlm_enabled=false`.
 */
export function iterationLimits({ capsule, env }: IterationLimitsInput): IterationLimits {
  const singleShot = !env.enabled || env.singleShot || !capsule.rlmEnabled;
  const threshold = env.convergenceThreshold ?? capsule.threshold;
  if (singleShot) return { minIterations: 1, maxIterations: 1, threshold, singleShot };
  const maxIterations = Math.max(1, Math.min(10, env.maxIterations ?? capsule.maxIterations));
  const minIterations = Math.max(1, Math.min(capsule.minIterations, maxIterations));
  return { minIterations, maxIterations, threshold, singleShot };
}
