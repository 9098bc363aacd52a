import { decideExit, isBudgetExhausted, type ExitReason, type IterationDecision } from '../../core/turn/index.js';
import { isSomaError } from '../../shared/errors.js';
import type { IterationScore } from './score-iteration.js';
import type { TurnProgress } from './turn-progress.js';
import type { TurnLoopResult, TurnSettings } from './types.js';

/** The exit check of SPEC §3.4 for one scored iteration (the rules themselves are `decideExit` in core). */
export function iterationExit({
  iteration,
  settings,
  final,
  score,
  repeatedToolCall,
  deadline,
  progress,
}: {
  iteration: number;
  settings: TurnSettings;
  final: boolean;
  score: IterationScore;
  repeatedToolCall: boolean;
  deadline: { at: number; passed: boolean; startedAt: number };
  progress: TurnProgress;
}): IterationDecision {
  return decideExit({
    iteration,
    minIterations: settings.minIterations,
    maxIterations: settings.maxIterations,
    threshold: settings.threshold,
    scores: progress.scores,
    final,
    toolCallsPending: score.toolCallsPending,
    loopDetected: repeatedToolCall,
    repeatedDraft: score.repeatedDraft,
    confidence: score.confidence,
    defective: score.defects.length > 0,
    budgetExhausted: isBudgetExhausted({ tokenBudget: settings.tokenBudget, deadline: deadline.at }, { tokensUsed: progress.tokensUsed, now: deadline.passed ? deadline.at : deadline.startedAt }),
  });
}

/**
 * How a turn ends when its loop throws: `budget_exhausted` at the deadline, `interrupted` when its
 * process stopped it (shutdown), `cancelled` when the client went away, else `error` with the fault's
 * code (the turn still closes with its best draft).
 */
export function faultExit(cause: unknown, { deadlineReached, cancelled, iteration, abortReason }: { deadlineReached: boolean; cancelled: boolean; iteration: number; abortReason?: unknown }): { exitReason: ExitReason; error?: TurnLoopResult['error'] } {
  if (deadlineReached || (cause as Error)?.name === 'DeadlineError') return { exitReason: 'budget_exhausted' };
  if ((cause as Error)?.name === 'InterruptedError' || (cancelled && (abortReason as Error | undefined)?.name === 'InterruptedError')) return { exitReason: 'interrupted' };
  if (cancelled || (cause as Error)?.name === 'AbortError') return { exitReason: 'cancelled' };
  return {
    exitReason: 'error',
    error: { code: isSomaError(cause) ? cause.code : 'INTERNAL', message: (cause as Error)?.message ?? String(cause), iteration },
  };
}
