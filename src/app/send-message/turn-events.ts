import type { ExitReason } from '../../core/turn/index.js';
import type { Neuromodulators, Weights } from '../../ports/learning.js';

/** The streaming events of SPEC §4, as `(event, data)` pairs. */
export type TurnEvent =
  | { event: 'turn.started'; data: { turn_id: string; convergence_threshold: number } }
  | { event: 'iteration.started'; data: { iteration: number } }
  | { event: 'iteration.delta'; data: { iteration: number; text: string } }
  | { event: 'tool.call'; data: { iteration: number; call_id: string; name: string; args: unknown } }
  | { event: 'tool.result'; data: { iteration: number; call_id: string; ok: boolean; result?: unknown; error?: string; latency_ms: number } }
  | { event: 'tool.approval_required'; data: { iteration: number; call_id: string; name: string; args: unknown; expires_at: string } }
  | { event: 'iteration.completed'; data: IterationCompletedData }
  | { event: 'turn.completed'; data: TurnCompleted }
  | { event: 'error'; data: { code: string; message: string } };

export interface IterationCompletedData {
  iteration: number;
  confidence: number | null;
  convergence_score: number;
  weights: Weights;
  neuromodulators: Neuromodulators;
  latency_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** The answer of a turn: `turn.completed`, and the body of a non-streaming `POST …/messages`. */
export interface TurnCompleted {
  turn_id: string;
  message_id: string;
  content: string;
  iterations: number;
  exit_reason: ExitReason;
  convergence_score: number | null;
  tools_used: string[];
}

/** A turn that paused for approval (SPEC §13.4): the body of a non-streaming `POST …/messages` then. */
export interface TurnPaused {
  turn_id: string;
  status: 'awaiting_approval';
  approvals: { iteration: number; call_id: string; name: string; args: unknown; expires_at: string }[];
}

/** How a run of a turn ended: the turn completed (or closed after a fault), or it waits for approval. */
export type TurnRunOutcome = TurnCompleted | TurnPaused;

/** Whether a run's outcome is a pause. */
export const isPaused = (outcome: TurnRunOutcome): outcome is TurnPaused => 'status' in outcome && outcome.status === 'awaiting_approval';

/** Receives the turn's streaming events as they are emitted (with their ids), e.g. a benchmark's timer. */
export type OnTurnEvent = (event: TurnEvent & { id: number }) => void;
