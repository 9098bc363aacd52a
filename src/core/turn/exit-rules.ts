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
  /** The same tool with the same arguments was called again. */
  loopDetected: boolean;
  /** This draft repeats an earlier draft of the turn (whitespace aside). */
  repeatedDraft?: boolean;
  /** Confidence of this draft (null when unknown): a repeated draft converges only on confidence alone. */
  confidence?: number | null;
  /** The draft failed a check (cut off, prompt echo, empty, ignores the tool result). */
  defective?: boolean;
  budgetExhausted: boolean;
}

/**
 * The exit check, in SPEC §3's order: converged → llm_completed → plateau → loop_detected →
 * budget_exhausted → max_iterations → continue. The quality exits (converged, completed, plateau,
 * loop) wait for `minIterations`; budget and max exits do not. SPEC §13.3: a defective draft (cut off
 * by the output limit, a prompt echo, empty, ignoring the tool result) can neither converge nor be
 * `llm_completed`; a draft that repeats an earlier one exits `loop_detected` unless its confidence
 * alone passes the threshold (then `converged`): the stability a repeat earns is no evidence.
 */
export function decideExit(input: ExitInput): IterationDecision {
  const { iteration, minIterations, maxIterations, threshold, scores, final, toolCallsPending, loopDetected, budgetExhausted } = input;
  const { repeatedDraft = false, confidence = null, defective = false } = input;
  const done = iteration + 1;
  const score = scores[scores.length - 1] ?? 0;
  const floorReached = done >= minIterations;
  if (floorReached) {
    const answerReady = !toolCallsPending && !defective;
    if (repeatedDraft) return answerReady && confidence !== null && confidence >= threshold ? 'converged' : 'loop_detected';
    if (answerReady && score >= threshold) return 'converged';
    if (final && answerReady) return 'llm_completed';
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
