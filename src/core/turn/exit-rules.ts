/**
 * Why a turn's loop stopped (SPEC §3). `continue` marks iterations that were not the last;
 * `interrupted` a turn stopped by its process going away (a crash, or a shutdown past its grace).
 */
export type ExitReason =
  | 'converged'
  | 'llm_completed'
  | 'plateau'
  | 'loop_detected'
  | 'budget_exhausted'
  | 'max_iterations'
  | 'cancelled'
  | 'interrupted'
  | 'error';

export type IterationDecision = ExitReason | 'continue';

/** Minimum improvement of the score over the last two iterations below which the loop has plateaued. */
export const PLATEAU_EPSILON = 0.01;

export interface ExitInput {
  /** Zero-based number of the iteration that just finished. */
  iteration: number;
  minIterations: number;
  maxIterations: number;
  threshold: number;
  /** Convergence scores of every iteration so far, this one last. */
  scores: readonly number[];
  /** The model declared its answer final. */
  final: boolean;
  /** Tool calls whose results the model has not seen yet. */
  toolCallsPending: boolean;
  /** The same tool with the same arguments was called again, or a draft repeated. */
  loopDetected: boolean;
  budgetExhausted: boolean;
}

/**
 * The exit check, in SPEC §3's order: converged → llm_completed → plateau → loop_detected →
 * budget_exhausted → max_iterations → continue. The quality exits (converged, completed, plateau,
 * loop) wait for `minIterations`; budget and max exits do not.
 */
export function decideExit(input: ExitInput): IterationDecision {
  const { iteration, minIterations, maxIterations, threshold, scores, final, toolCallsPending, loopDetected, budgetExhausted } = input;
  const done = iteration + 1;
  const score = scores[scores.length - 1] ?? 0;
  const floorReached = done >= minIterations;
  if (floorReached) {
    if (!toolCallsPending && score >= threshold) return 'converged';
    if (final && !toolCallsPending) return 'llm_completed';
    if (!toolCallsPending && hasPlateaued(scores)) return 'plateau';
    if (loopDetected) return 'loop_detected';
  }
  if (budgetExhausted) return 'budget_exhausted';
  if (done >= maxIterations) return 'max_iterations';
  return 'continue';
}

/** The score improved by less than {@link PLATEAU_EPSILON} over the last two iterations. */
export function hasPlateaued(scores: readonly number[]): boolean {
  if (scores.length < 3) return false;
  const last = scores[scores.length - 1]!;
  const twoBack = scores[scores.length - 3]!;
  return last - twoBack < PLATEAU_EPSILON;
}
