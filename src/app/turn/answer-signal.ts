import { junkDraft, type JunkReason } from '../../core/learning/index.js';
import { SCORER_FAILED_FEEDBACK } from '../../core/context/index.js';
import { SCORER_PASS_SCORE } from '../../core/turn/index.js';
import type { LlmOutput } from '../../ports/chat-model.js';
import type { AnswerScorer } from './types.js';

/** The real signal of one draft: its score (null when there is none) and why it is junk, if it is. */
export interface AnswerSignal {
  answerScore: number | null;
  junk?: JunkReason;
  /** The capsule's scorer failed the draft (score below {@link SCORER_PASS_SCORE}): what it missed, for the refine step. */
  scorerFeedback?: string;
}

/**
 * The answer's score from a real signal (SPEC §13.2): 0 for a junk draft (empty, cut off, an echo of
 * the prompt), else the capsule's scorer when it has one (a scorer that errs gives null: no signal), else
 * null — the reward then falls back to self-confidence at its reduced weight. A scorer's score below
 * {@link SCORER_PASS_SCORE} also carries its feedback: a failed check for the refine step (issue 11). Replay passes the
 * recorded score instead of scoring again (a judge model need not answer the same twice).
 */
export async function answerSignal({
  output,
  userMessage,
  systemPrompt,
  iteration,
  scorer,
  recorded,
}: {
  output: LlmOutput;
  userMessage: string;
  systemPrompt: string;
  iteration: number;
  scorer?: AnswerScorer;
  recorded?: AnswerSignal;
}): Promise<AnswerSignal> {
  if (recorded) return recorded;
  const junk = junkDraft({ text: output.text, finishReason: output.finishReason, userMessage, systemPrompt, toolCalls: output.toolCalls.length });
  if (junk) return { answerScore: 0, junk };
  if (!scorer || output.toolCalls.length > 0) return { answerScore: null };
  const raw = await scorer({ answer: output.text, userMessage, iteration }).catch(() => null);
  const answerScore = raw === null || !Number.isFinite(raw) ? null : Math.min(1, Math.max(0, raw));
  if (answerScore === null || answerScore >= SCORER_PASS_SCORE) return { answerScore };
  // A failed check is an outside signal: the draft cannot converge, and the refine step names it.
  return { answerScore, scorerFeedback: scorer.feedback?.(answerScore) ?? SCORER_FAILED_FEEDBACK };
}
