import { textSimilarity } from '../../core/learning/index.js';
import { confidenceOf, convergenceScore, draftDefects, isRepeatedDraft, numericResultsOf, type DraftDefect } from '../../core/turn/index.js';
import type { LlmOutput } from '../../ports/chat-model.js';
import type { TurnMetrics } from '../../ports/learning.js';
import type { ToolOutcome } from '../../ports/tools.js';
import type { TurnProgress } from './turn-progress.js';
import type { RecalledForTurn } from './types.js';

/** How one iteration's draft scored, and the metrics the learning step receives. */
export interface IterationScore {
  content: string;
  /** Similarity to the previous non-empty draft; null when there is none. */
  stability: number | null;
  confidence: number | null;
  convergenceScore: number;
  toolCallsPending: boolean;
  /** Tool success rate of the whole turn so far (1 when no tool ran). */
  turnToolSuccess: number;
  repeatedDraft: boolean;
  /** Checks the draft failed (cut off, prompt echo, empty, ignores the tool result). */
  defects: DraftDefect[];
  metrics: TurnMetrics;
}

/**
 * Confidence and convergence of a draft (SPEC §3.4, §13.3): confidence from log-probabilities or the
 * model's self-assessment, stability against the previous draft, the turn's tool success, 0 while tool
 * calls are pending or when the draft failed a check (the capsule's scorer's among them). A defective draft reports quality 0 to the
 * learning step (its token confidence measures fluent text, not an answer). Appends the draft, its
 * score, its step and the signals for the next refine step to the turn's progress.
 */
export function scoreIteration({
  turnId,
  iteration,
  output,
  outcomes,
  notes,
  memories,
  latencyMs,
  prompt,
  scorerFeedback,
  progress,
}: {
  turnId: string;
  iteration: number;
  output: LlmOutput;
  outcomes: ToolOutcome[];
  notes: TurnProgress['steps'][number]['results'];
  memories: RecalledForTurn[];
  latencyMs: number;
  /** The capsule's system prompt and the user's message, for the prompt-echo check. */
  prompt: { systemPrompt: string; userMessage: string };
  /** The capsule's scorer failed this draft: what it missed (a failed check like the others). */
  scorerFeedback?: string;
  progress: TurnProgress;
}): IterationScore {
  const content = output.text;
  const { drafts, scores } = progress;
  const previousDraft = drafts.findLast((draft) => draft.trim() !== '');
  const stability = previousDraft === undefined ? null : textSimilarity(previousDraft, content);
  const confidence = confidenceOf(output);
  const toolCallsPending = output.toolCalls.length > 0;
  const defects = draftDefects({ text: content, finishReason: output.finishReason, toolCallsPending, ...prompt, numericToolResults: progress.numericResults.map((r) => r.value) });
  if (scorerFeedback !== undefined && !toolCallsPending) defects.push('scorer_failed');
  const defective = defects.length > 0;
  const turnToolSuccess = progress.toolsRun === 0 ? 1 : progress.toolsOk / progress.toolsRun;
  const score = convergenceScore({ confidence, stability, toolSuccessRate: turnToolSuccess, toolCallsPending, defective });
  const repeatedDraft = !toolCallsPending && isRepeatedDraft(drafts, content);

  progress.signals = { defects, toolResultsArrived: toolCallsPending, numericResults: [...progress.numericResults], ...(defects.includes('scorer_failed') ? { scorerFeedback } : {}) };
  for (const outcome of outcomes) {
    const [value] = numericResultsOf([outcome]);
    if (value !== undefined) progress.numericResults.push({ name: outcome.name, args: outcome.args, value });
  }
  progress.steps.push({ text: content, toolCalls: output.toolCalls, results: notes });
  drafts.push(content);
  scores.push(score);
  progress.tokensUsed += output.usage.promptTokens + output.usage.completionTokens;

  const iterationToolsOk = outcomes.filter((o) => o.ok).length;
  const novelty = memories.length === 0 ? 1 : 1 - Math.max(...memories.map((m) => textSimilarity(m.content, content)));
  const metrics: TurnMetrics = {
    turn_id: turnId,
    iteration_number: iteration,
    tools_used: [...new Set(outcomes.map((o) => o.name))],
    confidence: defective ? 0 : confidence,
    convergence_score: score,
    tool_success_rate: outcomes.length === 0 ? 1 : iterationToolsOk / outcomes.length,
    latency_ms: latencyMs,
    prompt_tokens: output.usage.promptTokens,
    completion_tokens: output.usage.completionTokens,
    novelty,
  };
  return { content, stability, confidence, convergenceScore: score, toolCallsPending, turnToolSuccess, repeatedDraft, defects, metrics };
}
