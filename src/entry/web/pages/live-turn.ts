import type { Iteration } from '../api';
import type { TurnEvent } from '../stream';
import type { IterationView } from '../ui/turn';

/** A turn being streamed: what the chat shows until the stored answer replaces it. */
export interface LiveTurn {
  turnId?: string;
  /** The convergence threshold this turn stops at (the capsule's, or the operator's override), from `turn.started`. */
  threshold?: number;
  userText: string;
  iterations: IterationView[];
  completed?: { content: string; exit_reason: string; iterations: number; convergence_score: number | null; message_id: string };
  error?: string;
}

/** A stored trace's iterations as the chat shows them. */
export function fromTrace(iterations: Iteration[], exitReason: string | null): IterationView[] {
  return iterations.map((it, i) => ({
    n: it.iteration_number,
    text: it.content,
    tools: it.tool_calls.map((call, j) => {
      const callId = call.callId ?? call.id ?? String(j);
      const result = it.tool_results.find((r) => r.callId === callId) ?? it.tool_results[j];
      return { callId, name: call.name, args: call.args, ...(result ? { ok: result.ok, result: result.result, ...(result.error ? { error: result.error } : {}), ...(result.latency_ms !== undefined ? { latencyMs: result.latency_ms } : {}) } : {}) };
    }),
    done: true,
    confidence: it.confidence,
    convergence: it.convergence_score,
    latencyMs: it.latency_ms,
    promptTokens: it.prompt_tokens,
    completionTokens: it.completion_tokens,
    exitReason: i === iterations.length - 1 ? (exitReason ?? it.exit_reason) : it.exit_reason,
  }));
}

/** Applies one SSE event of SPEC §4 to the live turn. */
export function apply(turn: LiveTurn, { event, data }: TurnEvent): LiveTurn {
  const n = Number(data.iteration);
  const update = (fn: (it: IterationView) => IterationView) => ({ ...turn, iterations: turn.iterations.map((it) => (it.n === n ? fn(it) : it)) });
  switch (event) {
    case 'turn.started':
      return { ...turn, turnId: String(data.turn_id), ...(typeof data.convergence_threshold === 'number' ? { threshold: data.convergence_threshold } : {}) };
    case 'iteration.started':
      return { ...turn, iterations: [...turn.iterations.filter((it) => it.n !== n), { n, text: '', tools: [], done: false }] };
    case 'iteration.delta':
      return update((it) => ({ ...it, text: it.text + String(data.text ?? '') }));
    case 'tool.call':
      return update((it) => ({ ...it, tools: [...it.tools, { callId: String(data.call_id), name: String(data.name), args: data.args }] }));
    case 'tool.approval_required':
      return update((it) => ({ ...it, tools: it.tools.map((t) => (t.callId === String(data.call_id) ? { ...t, awaitingApproval: true } : t)) }));
    case 'tool.result':
      return update((it) => ({
        ...it,
        tools: it.tools.map((t) => (t.callId === String(data.call_id) ? { ...t, awaitingApproval: false, ok: Boolean(data.ok), result: data.result, ...(data.error ? { error: String(data.error) } : {}), latencyMs: Number(data.latency_ms) } : t)),
      }));
    case 'iteration.completed':
      return update((it) => ({
        ...it,
        done: true,
        confidence: data.confidence as number | null,
        convergence: data.convergence_score as number | null,
        latencyMs: Number(data.latency_ms),
        promptTokens: Number(data.prompt_tokens),
        completionTokens: Number(data.completion_tokens),
        exitReason: 'continue',
      }));
    case 'turn.completed': {
      const completed = data as unknown as NonNullable<LiveTurn['completed']>;
      const last = turn.iterations[turn.iterations.length - 1];
      return { ...turn, completed, iterations: turn.iterations.map((it) => (it === last ? { ...it, done: true, exitReason: completed.exit_reason } : it)) };
    }
    case 'error':
      return { ...turn, error: `${String(data.code)}: ${String(data.message)}` };
    default:
      return turn;
  }
}
