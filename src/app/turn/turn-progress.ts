import type { RefineSignals, TurnStep } from '../../core/context/index.js';
import type { ToolCall } from '../../ports/chat-model.js';
import type { LearnedState } from '../../ports/learning.js';
import type { IterationRecord } from './types.js';

/** What a turn has done so far: the loop's running state, updated by each step. */
export interface TurnProgress {
  records: IterationRecord[];
  drafts: string[];
  scores: number[];
  /** Every tool call of the turn (a repeat is not run again). */
  calledTools: ToolCall[];
  /** The turn's iterations as the next iteration's context shows them (drafts, tool calls, results). */
  steps: TurnStep[];
  /** What changed since the last draft: what the next refine step is built on. */
  signals: RefineSignals;
  /** Successful numeric tool results of the turn so far (what a draft is checked against). */
  numericResults: { name: string; args: unknown; value: number }[];
  toolsUsed: Set<string>;
  toolsRun: number;
  toolsOk: number;
  tokensUsed: number;
  /** The learned state the next learning step starts from. */
  state: LearnedState;
}

export function startProgress(state: LearnedState): TurnProgress {
  return {
    records: [],
    drafts: [],
    scores: [],
    calledTools: [],
    steps: [],
    signals: { defects: [], toolResultsArrived: false, numericResults: [] },
    numericResults: [],
    toolsUsed: new Set(),
    toolsRun: 0,
    toolsOk: 0,
    tokensUsed: 0,
    state,
  };
}
