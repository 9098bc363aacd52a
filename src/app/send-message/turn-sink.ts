import type { Repositories } from '../../ports/store.js';
import type { ToolOutcome } from '../../ports/tools.js';
import type { AppContext } from '../context.js';
import type { TurnEventLog } from '../turn-event-log.js';
import { isAwaitingApproval, type IterationRecord, type TurnSink } from '../turn/index.js';
import { pauseForApproval } from './pause-turn.js';
import { saveIteration, type IterationOwner } from './save-iteration.js';

/** Model label for metrics: provider and model name, without file paths (bounded cardinality). */
export function metricModelLabel(model: string): string {
  const [provider, ...rest] = model.split(':');
  const name = rest.join(':');
  return `${provider}:${name.split('/').pop() ?? name}`;
}

/** The sink of a live run, with what the run's close needs of it. */
export interface LiveTurnSink extends TurnSink {
  /** Counts the last iteration in `rlm_iterations_total` with the turn's exit reason (once the turn closed). */
  settle(exitReason: string): void;
}

/**
 * Where the loop reports a live turn: its progress becomes the SSE events of SPEC §4 in the turn's
 * event log; each iteration is stored with its event and with the SSE events emitted since the
 * previous write (one row, one transaction); an iteration whose calls wait for a person also pauses
 * the turn in that transaction. Metrics count each iteration once, with the exit reason it ends up
 * with: `continue` once another follows, else the turn's (`settle`).
 */
export function createTurnSink(ctx: AppContext, { owner, log, approvalTimeoutS, counted }: { owner: IterationOwner; log: TurnEventLog; approvalTimeoutS: number; counted?: IterationRecord }): LiveTurnSink {
  let uncounted = counted;
  const count = (record: IterationRecord, exitReason: string) => ctx.metrics.iteration(exitReason, record.convergenceScore);
  return {
    iterationStarted: (iteration) => void log.emit('iteration.started', { iteration }),
    delta: (iteration, text) => void log.emit('iteration.delta', { iteration, text }),
    toolCall: (iteration, call) => void log.emit('tool.call', { iteration, call_id: call.callId, name: call.name, args: call.args }),
    toolResult: (iteration, outcome) => void log.emit('tool.result', toolResultData(iteration, outcome)),
    saveIteration: async (record, transaction) => {
      const awaiting = record.toolResults.filter(isAwaitingApproval);
      const pausing = record.exitReason === 'continue' && awaiting.length > 0;
      const expiresAt = new Date(ctx.clock.now() + approvalTimeoutS * 1000);
      log.stage([
        ...awaiting.map((call): [string, unknown] =>
          pausing
            ? ['tool.approval_required', { iteration: record.iteration, call_id: call.callId, name: call.name, args: call.args, expires_at: expiresAt.toISOString() }]
            : ['tool.result', toolResultData(record.iteration, { ...call, error: `${call.name} needs a person's approval, and the turn ended here before it was asked` })],
        ),
        ['iteration.completed', iterationCompletedData(record)],
      ]);
      const events = log.pendingBatch();
      const extra = pausing ? (tx: Repositories) => pauseForApproval(ctx, tx, { owner, iteration: record.iteration, calls: awaiting, expiresAt }) : undefined;
      await saveIteration(ctx, owner, { ...record, ...(events ? { streamEvents: events } : {}) }, transaction, extra);
    },
    appendsOnly: (exitReason, toolResults) => !(exitReason === 'continue' && toolResults.some(isAwaitingApproval)),
    iterationCompleted: (record) => {
      log.release();
      ctx.metrics.tokens(metricModelLabel(record.model), record.promptTokens, record.completionTokens);
      if (uncounted) count(uncounted, 'continue');
      uncounted = undefined;
      if (record.exitReason === 'continue') uncounted = record;
      else count(record, record.exitReason);
    },
    settle: (exitReason) => {
      if (uncounted) count(uncounted, exitReason);
      uncounted = undefined;
    },
  };
}

export function toolResultData(iteration: number, outcome: ToolOutcome) {
  return { iteration, call_id: outcome.callId, ok: outcome.ok, ...(outcome.ok ? { result: outcome.result } : { error: outcome.error ?? outcome.outcome }), latency_ms: outcome.latency_ms };
}

function iterationCompletedData(record: IterationRecord) {
  return {
    iteration: record.iteration,
    confidence: record.confidence,
    convergence_score: record.convergenceScore,
    weights: record.weightsAfter,
    neuromodulators: record.neuromodulatorsAfter,
    latency_ms: record.latencyMs,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
  };
}
