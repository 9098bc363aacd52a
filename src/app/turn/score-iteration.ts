import { textSimilarity } from '../../core/learning/index.js';
import { confidenceOf, convergenceScore, isRepeatedDraft } from '../../core/turn/index.js';
import type { LlmOutput } from '../../ports/chat-model.js';
import type { TurnMetrics } from '../../ports/learning.js';
import type { ToolOutcome } from '../../ports/tools.js';
import type { TurnProgress } from './turn-progress.js';
import type { RecalledForTurn } from './types.js';

/** How one iteration's draft scored, and the metrics the learning step receives. */
export interface IterationScore {
  content: string;
  /** Similarity to the previous draft; null on the first iteration. */
  stability: number | null;
  confidence: number | null;
  convergenceScore: number;
  toolCallsPending: boolean;
  /** Tool success rate of the whole turn so far (1 when no tool ran). */
  turnToolSuccess: number;
  repeatedDraft: boolean;
  metrics: TurnMetrics;
}

/**
 * Confidence and convergence of a draft (SPEC §3.4): confidence from log-probabilities or the model's
 * self-assessment, stability against the previous draft, the turn's tool success, 0 while tool calls
 * are pending. Appends the draft, its score and its tokens to the turn's progress.
 */
export function scoreIteration({
  turnId,
  iteration,
  output,
  outcomes,
  memories,
  latencyMs,
  progress,
}: {
  turnId: string;
  iteration: number;
  output: LlmOutput;
  outcomes: ToolOutcome[];
  memories: RecalledForTurn[];
  latencyMs: number;
  progress: TurnProgress;
}): IterationScore {
  const content = output.text;
  const { drafts, scores } = progress;
  const previousDraft = drafts[drafts.length - 1];
  const stability = previousDraft === undefined ? null : textSimilarity(previousDraft, content);
  const confidence = confidenceOf(output);
  const toolCallsPending = output.toolCalls.length > 0;
  const turnToolSuccess = progress.toolsRun === 0 ? 1 : progress.toolsOk / progress.toolsRun;
  const score = convergenceScore({ confidence, stability, toolSuccessRate: turnToolSuccess, toolCallsPending });
  const repeatedDraft = !toolCallsPending && isRepeatedDraft(drafts, content);
  drafts.push(content);
  scores.push(score);
  progress.tokensUsed += output.usage.promptTokens + output.usage.completionTokens;

  const iterationToolsOk = outcomes.filter((o) => o.ok).length;
  const novelty = memories.length === 0 ? 1 : 1 - Math.max(...memories.map((m) => textSimilarity(m.content, content)));
  const metrics: TurnMetrics = {
    turn_id: turnId,
    iteration_number: iteration,
    tools_used: [...new Set(outcomes.map((o) => o.name))],
    confidence,
    convergence_score: score,
    tool_success_rate: outcomes.length === 0 ? 1 : iterationToolsOk / outcomes.length,
    latency_ms: latencyMs,
    prompt_tokens: output.usage.promptTokens,
    completion_tokens: output.usage.completionTokens,
    novelty,
  };
  return { content, stability, confidence, convergenceScore: score, toolCallsPending, turnToolSuccess, repeatedDraft, metrics };
}
