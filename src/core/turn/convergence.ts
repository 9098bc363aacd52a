import { clamp01 } from './confidence.js';

/** Weights of the convergence score's components (they sum to 1). */
export const convergenceWeights = { confidence: 0.6, stability: 0.25, toolSuccess: 0.15 } as const;

export interface ConvergenceInput {
  /** Confidence of this iteration, null when unknown (counts as 0: unknown is not confident). */
  confidence: number | null;
  /** Similarity of this draft to the previous one in [0,1]; null on the first iteration (counts as 0). */
  stability: number | null;
  /** Fraction of the turn's tool calls so far that succeeded; 1 when none ran. */
  toolSuccessRate: number;
  /** The model asked for tools whose results it has not seen yet. */
  toolCallsPending: boolean;
}

/**
 * Convergence score in [0,1]:
 * `0.6·confidence + 0.25·stability + 0.15·tool_success_rate`, and 0 while tool calls are pending.
 * Unknown parts count as 0, so a first draft (no stability yet) scores at most 0.75 and cannot pass
 * the default threshold 0.9 without a second look. Deterministic given the recorded outputs.
 */
export function convergenceScore({ confidence, stability, toolSuccessRate, toolCallsPending }: ConvergenceInput): number {
  if (toolCallsPending) return 0;
  const w = convergenceWeights;
  return clamp01(w.confidence * clamp01(confidence ?? 0) + w.stability * clamp01(stability ?? 0) + w.toolSuccess * clamp01(toolSuccessRate));
}
