import { numericResultsOf, type DraftDefect } from '../../core/turn/index.js';
import type { LearnedState } from '../../ports/learning.js';
import { recordDecidedOutcomes, recordOutcomes, settledNotes } from './tool-stage.js';
import { startProgress, type TurnProgress } from './turn-progress.js';
import type { TurnResume } from './types.js';

/**
 * The loop's running state after the committed iterations, rebuilt exactly as the loop built it while
 * they ran (drafts, scores, calls, the steps the next prompt shows with their tool results, numeric
 * results, the refine signals of the last draft, tokens), with the learned state of the last of them —
 * so the next iteration is the one an uninterrupted run would have made.
 */
export function resumeProgress({ records, resolvedCalls }: TurnResume, startState: LearnedState): TurnProgress {
  const progress = startProgress(startState);
  records.forEach((record, index) => {
    progress.signals = {
      defects: (record.metadata.defects ?? []) as DraftDefect[],
      toolResultsArrived: record.toolCalls.length > 0,
      numericResults: [...progress.numericResults],
      ...(record.metadata.scorer_feedback !== undefined ? { scorerFeedback: record.metadata.scorer_feedback } : {}),
    };
    const settled = record.toolResults;
    for (const outcome of settled) {
      const [value] = outcome.outcome === 'awaiting_approval' ? [] : numericResultsOf([outcome]);
      if (value !== undefined) progress.numericResults.push({ name: outcome.name, args: outcome.args, value });
    }
    progress.steps.push({ text: record.content, toolCalls: record.toolCalls, results: settledNotes(settled) });
    progress.records.push(record);
    progress.drafts.push(record.content);
    progress.scores.push(record.convergenceScore);
    progress.tokensUsed = record.metadata.tokens_used;
    progress.calledTools.push(...record.toolCalls);
    recordOutcomes(progress, settled);
    recordDecidedOutcomes(progress, index, resolvedCalls.get(record.iteration) ?? []);
  });
  const last = records.at(-1);
  if (last) progress.state = { weights: last.weightsAfter, neuromodulators: last.neuromodulatorsAfter, rewardBaseline: last.metadata.learning_before?.rewardBaseline ?? startState.rewardBaseline };
  return progress;
}
