import type { ExitReason } from '../../core/turn/index.js';
import type { Neuromodulators, Weights } from '../../ports/learning.js';

/** The streaming events of SPEC §4, as `(event, data)` pairs. */
export type TurnEvent =
  | { event: 'turn.started'; data: { turn_id: string } }
  | { event: 'iteration.started'; data: { iteration: number } }
  | { event: 'iteration.delta'; data: { iteration: number; text: string } }
  | { event: 'tool.call'; data: { iteration: number; call_id: string; name: string; args: unknown } }
  | { event: 'tool.result'; data: { iteration: number; call_id: string; ok: boolean; result?: unknown; error?: string; latency_ms: number } }
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

/** Receives the turn's streaming events (the SSE writer, or nothing). */
export type OnTurnEvent = (event: TurnEvent) => void;
