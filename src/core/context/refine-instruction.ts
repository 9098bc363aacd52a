import type { DraftDefect } from '../turn/index.js';

/** What changed since the previous draft: the outside signals the refine step is built on. */
export interface RefineSignals {
  /** Checks the previous draft failed. */
  defects: readonly DraftDefect[];
  /** The previous iteration's tool calls ran: their results are in the prompt as tool messages. */
  toolResultsArrived: boolean;
  /** Successful numeric tool results of the turn, for the "tool result not used" feedback. */
  numericResults: readonly { name: string; args: unknown; value: number }[];
  /** What the capsule's scorer said the previous draft missed (with the `scorer_failed` defect). */
  scorerFeedback?: string;
}

/** The refine step's words for a draft the capsule's scorer failed, when the scorer says nothing more. */
export const SCORER_FAILED_FEEDBACK = 'Your answer did not pass the answer check.';

/** Asks a model without token log-probabilities for its verbalised self-assessment (parsed by the adapters). */
export const selfAssessmentRequest =
  'On the last line write "CONFIDENCE: <a number from 0 to 1>" for how sure you are, and add the word FINAL on that line if no further refinement would improve the answer.';

/** The second look of a draft that no outside signal contradicts. */
export const checkInstruction = 'Check your answer above against the question. Then write the final answer to the question (the answer only, not the check), briefly.';

const defectText: Record<DraftDefect, string> = {
  truncated: 'Your answer was cut off because it was too long.',
  echo: 'Your answer repeated the question or your instructions instead of answering.',
  empty: 'Your answer was empty.',
  tool_result_unused: '',
  scorer_failed: SCORER_FAILED_FEEDBACK,
};

/**
 * The user message of a refine step (iteration k ≥ 1), built from what changed since the last draft
 * (CRITIC: critique grounded in outside signals). After a tool round with no failed check there is
 * none: the prompt ends with the tool results and the model continues its own answer. A failed check
 * (a cut-off or echoing draft, an unused tool result, the capsule's scorer) is named with what to do;
 * a policy denial reaches the prompt as the denied call's tool message. Without any signal it is a plain second look; models that give no token
 * log-probabilities are also asked for `CONFIDENCE:` and `FINAL`.
 */
export function refineInstruction(signals: RefineSignals, { selfAssessment }: { selfAssessment: boolean }): string | undefined {
  const parts: string[] = [];
  for (const defect of signals.defects) {
    if (defect === 'tool_result_unused') {
      // The result comes last: a small model that restates the feedback then ends on the right number.
      for (const r of signals.numericResults) parts.push(`Your answer does not use the ${r.name} tool's result: for ${argumentsText(r.args)} it returned ${formatNumber(r.value)}.`);
    } else if (defect === 'scorer_failed') parts.push(signals.scorerFeedback ?? defectText.scorer_failed);
    else parts.push(defectText[defect]);
  }
  if (parts.length > 0) parts.push('Answer the question again, correctly and briefly.');
  else if (signals.toolResultsArrived) return undefined;
  else parts.push(checkInstruction);
  if (selfAssessment) parts.push(selfAssessmentRequest);
  return parts.join(' ');
}

/** A call's arguments as the feedback shows them: the value itself when there is one plain value (`6*7`), else JSON. */
function argumentsText(args: unknown): string {
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) {
    const values = Object.values(args);
    if (values.length === 1 && (typeof values[0] === 'string' || typeof values[0] === 'number')) return String(values[0]);
  }
  return JSON.stringify(args);
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e10) / 1e10);
}
