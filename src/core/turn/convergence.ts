import { clamp01 } from './confidence.js';

/** Weights of the convergence score's components (they sum to 1). */
export const convergenceWeights = { confidence: 0.6, stability: 0.25, toolSuccess: 0.15 } as const;

/**
 * Default convergence threshold of a capsule (`rlm_convergence_threshold`), chosen by `soma eval`
 * (README "Answers and how they are measured"): a complete first draft that fails no check stops at
 * once unless its confidence is below 0.25 (0.6·c + 0.15 ≥ 0.3). On the shipped sets a second look
 * without an outside signal never turned a wrong answer right and turned one right answer wrong, at
 * 0.9 it doubled the iterations; iterating is for outside signals (tool results, failed checks).
 */
export const DEFAULT_CONVERGENCE_THRESHOLD = 0.3;

export interface ConvergenceInput {
  /** Confidence of this iteration, null when unknown (counts as 0: unknown is not confident). */
  confidence: number | null;
  /** Similarity of this draft to the previous one in [0,1]; null on the first draft (counts as 0). */
  stability: number | null;
  /** Fraction of the turn's tool calls so far that succeeded; 1 when none ran. */
  toolSuccessRate: number;
  /** The model asked for tools whose results it has not seen yet. */
  toolCallsPending: boolean;
  /** The draft failed a check (cut off, prompt echo, empty, ignores the tool result): not an answer yet. */
  defective?: boolean;
}

/**
 * Convergence score in [0,1]:
 * `0.6·confidence + 0.25·stability + 0.15·tool_success_rate`, and 0 while tool calls are pending or
 * when the draft failed a check ({@link draftDefects}). Unknown parts count as 0, so a first draft
 * (no stability yet) scores at most 0.75. Deterministic given the recorded outputs.
 */
export function convergenceScore({ confidence, stability, toolSuccessRate, toolCallsPending, defective = false }: ConvergenceInput): number {
  if (toolCallsPending || defective) return 0;
  const w = convergenceWeights;
  return clamp01(w.confidence * clamp01(confidence ?? 0) + w.stability * clamp01(stability ?? 0) + w.toolSuccess * clamp01(toolSuccessRate));
}
