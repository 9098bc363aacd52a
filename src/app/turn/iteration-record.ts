import type { BuiltContext } from '../../core/context/index.js';
import type { IterationDecision } from '../../core/turn/index.js';
import type { LlmOutput } from '../../ports/chat-model.js';
import { weightNames, type LearnedState, type Weights } from '../../ports/learning.js';
import type { ToolOutcome } from '../../ports/tools.js';
import type { AnswerSignal } from './answer-signal.js';
import type { IterationScore } from './score-iteration.js';
import type { ToolStageResult } from './tool-stage.js';
import type { IterationRecord, LearnResult, TurnSettings, RecalledForTurn } from './types.js';

/** Everything known about an iteration before its learning step: what the record is built from. */
export interface IterationFacts {
  iteration: number;
  output: LlmOutput;
  modelId: string;
  context: Pick<BuiltContext, 'used' | 'memoryKeys' | 'lane'>;
  /** SHA-256 of the canonical JSON of the messages sent to the model. */
  promptHash: string;
  /** Token counts taken during this iteration, by text hash (replay counts with them). */
  tokenCounts: Record<string, number>;
  signal: AnswerSignal;
  laneSensitive: string[];
  tools: ToolStageResult;
  score: IterationScore;
  decision: IterationDecision;
  latencyMs: number;
  deadlinePassed: boolean;
  tokensUsed: number;
  memories: RecalledForTurn[];
  settings: Pick<TurnSettings, 'degraded'>;
  startedAt: number;
  /** Characters of the model's and the tools' output replaced because PostgreSQL cannot store them. */
  replaced?: { model: number; tools: number };
}

/** The stored iteration (`rlm_iterations` row) from its facts and how its learning went (`state` when skipped). */
export function buildIterationRecord(facts: IterationFacts, learned: LearnResult, state: LearnedState, completedAt: number): IterationRecord {
  const { iteration, output, score, tools } = facts;
  const before = learned.status === 'skipped' ? state : learned.before;
  const after = learned.status === 'skipped' ? state : learned.after;
  return {
    iteration,
    content: score.content,
    llmOutput: output,
    model: output.model || facts.modelId,
    confidence: score.confidence,
    convergenceScore: score.convergenceScore,
    exitReason: facts.decision,
    weightsBefore: before.weights,
    weightsAfter: after.weights,
    weightDeltas: deltas(before.weights, after.weights),
    neuromodulatorsBefore: before.neuromodulators,
    neuromodulatorsAfter: after.neuromodulators,
    toolCalls: output.toolCalls,
    toolResults: tools.outcomes,
    promptTokens: output.usage.promptTokens,
    completionTokens: output.usage.completionTokens,
    latencyMs: facts.latencyMs,
    startedAt: new Date(facts.startedAt),
    completedAt: new Date(completedAt),
    metadata: {
      learning: learned.status,
      ...(learned.status === 'skipped'
        ? { learning_error: learned.reason }
        : { reward: learned.reward, advantage: learned.advantage, learning_seq: learned.seq, learning_before: learned.before }),
      metrics: score.metrics,
      stability: score.stability,
      tool_success_rate: score.turnToolSuccess,
      loop: { repeated_tool_call: tools.repeatedToolCall, repeated_draft: score.repeatedDraft },
      defects: score.defects,
      ...(facts.iteration === 0 ? { memories: facts.memories } : {}),
      lane: { keys: facts.context.memoryKeys, utility: facts.context.lane.utility, total_weight: facts.context.lane.totalWeight, tokens: facts.context.lane.tokens },
      lane_sensitive: facts.laneSensitive,
      prompt_hash: facts.promptHash,
      token_counts: facts.tokenCounts,
      answer_score: facts.signal.answerScore,
      ...(facts.signal.junk ? { junk: facts.signal.junk } : {}),
      ...(facts.signal.scorerFeedback !== undefined ? { scorer_feedback: facts.signal.scorerFeedback } : {}),
      context: { ...facts.context.used, memories_in_lane: facts.context.memoryKeys.length },
      degraded: facts.settings.degraded,
      deadline_passed: facts.deadlinePassed,
      tokens_used: facts.tokensUsed,
      policy_decisions: policyDecisions(tools.outcomes),
      ...(facts.replaced && facts.replaced.model + facts.replaced.tools > 0 ? { text_replaced: facts.replaced } : {}),
    },
  };
}

function policyDecisions(outcomes: ToolOutcome[]) {
  return outcomes.flatMap((o) =>
    o.policy ? [{ call_id: o.callId, tool: o.name, allow: o.policy.allow, engine: o.policy.engine, ...(o.policy.reason ? { reason: o.policy.reason } : {}) }] : [],
  );
}

function deltas(before: Weights, after: Weights): Weights {
  const out = {} as Weights;
  for (const name of weightNames) out[name] = after[name] - before[name];
  return out;
}
