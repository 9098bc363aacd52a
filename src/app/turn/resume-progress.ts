import type { LearnedState } from '../../ports/learning.js';
import { recordOutcomes } from './tool-stage.js';
import { startProgress, type TurnProgress } from './turn-progress.js';
import type { TurnResume } from './types.js';

/**
 * The loop's running state after the committed iterations, rebuilt exactly as the loop built it while
 * they ran (drafts, scores, calls, tool results and their success, tokens), with the learned state
 * of the last of them — so the next iteration is the one an uninterrupted run would have made.
 */
export function resumeProgress({ records, resolvedCalls }: TurnResume, startState: LearnedState): TurnProgress {
  const progress = startProgress(startState);
  for (const record of records) {
    progress.records.push(record);
    progress.drafts.push(record.content);
    progress.scores.push(record.convergenceScore);
    progress.tokensUsed = record.metadata.tokens_used;
    progress.calledTools.push(...record.toolCalls);
    recordOutcomes(progress, record.toolResults);
    recordOutcomes(progress, resolvedCalls.get(record.iteration) ?? []);
  }
  const last = records.at(-1);
  if (last) progress.state = { weights: last.weightsAfter, neuromodulators: last.neuromodulatorsAfter, rewardBaseline: last.metadata.learning_before?.rewardBaseline ?? startState.rewardBaseline };
  return progress;
}
