import type { AppContext } from '../context.js';
import type { IterationRecord, TurnSink } from '../turn/index.js';
import { saveIteration, type IterationOwner } from './save-iteration.js';
import type { OnTurnEvent } from './turn-events.js';

/** Model label for metrics: provider and model name, without file paths (bounded cardinality). */
export function metricModelLabel(model: string): string {
  const [provider, ...rest] = model.split(':');
  const name = rest.join(':');
  return `${provider}:${name.split('/').pop() ?? name}`;
}

/**
 * Where the loop reports a live turn: its progress becomes the SSE events of SPEC §4, each iteration
 * is stored with its event, and a completed iteration reports the model healthy and counts metrics.
 */
export function createTurnSink(ctx: AppContext, owner: IterationOwner, onEvent: OnTurnEvent): TurnSink {
  return {
    iterationStarted: (iteration) => onEvent({ event: 'iteration.started', data: { iteration } }),
    delta: (iteration, text) => onEvent({ event: 'iteration.delta', data: { iteration, text } }),
    toolCall: (iteration, call) => onEvent({ event: 'tool.call', data: { iteration, call_id: call.callId, name: call.name, args: call.args } }),
    toolResult: (iteration, outcome) =>
      onEvent({
        event: 'tool.result',
        data: { iteration, call_id: outcome.callId, ok: outcome.ok, ...(outcome.ok ? { result: outcome.result } : { error: outcome.error ?? outcome.outcome }), latency_ms: outcome.latency_ms },
      }),
    saveIteration: (record, transaction) => saveIteration(ctx, owner, record, transaction),
    iterationCompleted: (record: IterationRecord) => {
      ctx.health.report('llm', true);
      ctx.metrics.iteration(record.exitReason, record.convergenceScore);
      ctx.metrics.tokens(metricModelLabel(record.model), record.promptTokens, record.completionTokens);
      onEvent({
        event: 'iteration.completed',
        data: {
          iteration: record.iteration,
          confidence: record.confidence,
          convergence_score: record.convergenceScore,
          weights: record.weightsAfter,
          neuromodulators: record.neuromodulatorsAfter,
          latency_ms: record.latencyMs,
          prompt_tokens: record.promptTokens,
          completion_tokens: record.completionTokens,
        },
      });
    },
  };
}
