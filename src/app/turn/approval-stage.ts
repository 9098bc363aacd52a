import type { ToolOutcome } from '../../ports/tools.js';
import { isAwaitingApproval, recordDecidedOutcomes } from './tool-stage.js';
import type { TurnProgress } from './turn-progress.js';
import type { ApprovalGate, PausedAt } from './types.js';

/**
 * After an iteration that goes on: when some of its calls await approval, either the gate has their
 * decided outcomes (replay plays the recorded ones back, and they join the tool results the next
 * iteration sees) or the turn pauses here, with nothing left running.
 */
export async function approvalStage({ iteration, outcomes, gate, progress }: { iteration: number; outcomes: readonly ToolOutcome[]; gate?: ApprovalGate; progress: TurnProgress }): Promise<PausedAt | undefined> {
  const awaiting = outcomes.filter(isAwaitingApproval);
  if (awaiting.length === 0) return undefined;
  const resolved = await gate?.resolve(iteration, awaiting);
  if (!resolved) return { iteration, calls: awaiting };
  recordDecidedOutcomes(progress, progress.steps.length - 1, resolved);
  return undefined;
}
