import type { Repositories } from '../../ports/store.js';
import type { ToolOutcome } from '../../ports/tools.js';
import type { AppContext } from '../context.js';
import type { TurnEventLog } from '../turn-event-log.js';
import { isAwaitingApproval, type IterationRecord, type TurnSink } from '../turn/index.js';
import type { StreamEventBatch } from '../../ports/store.js';
import type { ExitReason } from '../../core/turn/index.js';
import { closingDraftOfRecord, prepareClose, type PreparedClose } from './finish-turn.js';
import { pauseForApproval } from './pause-turn.js';
import { turnMemory } from './remember-turn.js';
import type { BrainScope, KnownCapsule } from '../../ports/brain.js';
import type { LearningConfig } from '../../core/learning/index.js';
import { bestDraft } from '../../core/turn/index.js';
import { saveIteration, type IterationOwner } from './save-iteration.js';
import { memoized } from '../../shared/bounded-memo.js';

/** Model label for metrics: provider and model name, without file paths (bounded cardinality). */
export function metricModelLabel(model: string): string {
  return memoized(modelLabels, model, 256, () => {
    const [provider, ...rest] = model.split(':');
    const name = rest.join(':');
    return `${provider}:${name.split('/').pop() ?? name}`;
  });
}

/** The labels of the models seen (a process uses few; cleared if it ever saw many). */
const modelLabels = new Map<string, string>();

/** The sink of a live run, with what the run's close needs of it. */
export interface LiveTurnSink extends TurnSink {
  /** Counts the last iteration in `rlm_iterations_total` with the turn's exit reason (once the turn closed). */
  settle(exitReason: string): void;
  /** The close committed with the iteration that ended the turn (its `turn.completed` released with it), if it was. */
  closed(): PreparedClose | undefined;
  /** Whether that commit also took what the turn remembers (nothing is left to remember then). */
  remembered(): boolean;
}

/** What a sink needs to close the turn with the iteration that ends it (a first run only: a resumed run's close reads the answer it replaces). */
export interface CloseWithLastIteration {
  model: string;
  startedAtMs: number;
  /** What the turn remembers with its close, when the brain can write it in the same commit. */
  remember?: { scope: BrainScope; question: string; config: LearningConfig; known: KnownCapsule };
}

/**
 * Where the loop reports a live turn: its progress becomes the SSE events of SPEC §4 in the turn's
 * event log; each iteration is stored with its event and with the SSE events emitted since the
 * previous write (one row, one transaction); an iteration whose calls wait for a person also pauses
 * the turn in that transaction. Metrics count each iteration once, with the exit reason it ends up
 * with: `continue` once another follows, else the turn's (`settle`).
 */
export function createTurnSink(
  ctx: AppContext,
  { owner, log, approvalTimeoutS, counted, close }: { owner: IterationOwner; log: TurnEventLog; approvalTimeoutS: number; counted?: IterationRecord; close?: CloseWithLastIteration },
): LiveTurnSink {
  let uncounted = counted;
  /** The close written with the last save (valid once that save committed), and the one that did. */
  let pendingClose: { record: IterationRecord; prepared: PreparedClose; remembered: boolean } | undefined;
  let closedWith: PreparedClose | undefined;
  let rememberedWith = false;
  const count = (record: IterationRecord, exitReason: string) => ctx.metrics.iteration(exitReason, record.convergenceScore);
  return {
    iterationStarted: (iteration) => void log.emit('iteration.started', { iteration }),
    delta: (iteration, text) => void log.emit('iteration.delta', { iteration, text }),
    toolCall: (iteration, call) => void log.emit('tool.call', { iteration, call_id: call.callId, name: call.name, args: call.args }),
    toolResult: (iteration, outcome) => void log.emit('tool.result', toolResultData(iteration, outcome)),
    saveIteration: async (record, transaction, turn) => {
      pendingClose = undefined;
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
      ], record.iteration);
      const events = log.pendingBatch();
      // The iteration that ends the turn closes it in the same commit: one round trip less, and no
      // moment where the turn's last iteration is stored but the turn still runs.
      const prepared = close && turn && !pausing && record.exitReason !== 'continue' ? closeWith(record, turn, close) : undefined;
      let closeEvents: StreamEventBatch | undefined;
      let closedNow = false;
      let rememberedNow = false;
      if (prepared) closeEvents = log.stageAlso([['turn.completed', prepared.completion]]);
      const extra = pausing
        ? (tx: Repositories) => pauseForApproval(ctx, tx, { owner, iteration: record.iteration, calls: awaiting, expiresAt })
        : prepared
          ? async (tx: Repositories) => {
              closedNow = await prepared.write(tx, closeEvents);
              // The turn's memory in the same commit (one statement less per turn), when the brain can.
              if (closedNow && close?.remember && turn && transaction !== undefined) rememberedNow = rememberWithClose(close.remember, transaction, [...turn.records, record]);
            }
          : undefined;
      await saveIteration(ctx, owner, { ...record, ...(events ? { streamEvents: events } : {}) }, transaction, extra);
      // Another process closed the turn first: the iteration is stored, its close is not (the run's close finds out).
      if (prepared && !closedNow && closeEvents) log.unstageBatch(closeEvents);
      if (prepared && closedNow) pendingClose = { record, prepared, remembered: rememberedNow };
    },
    // An iteration that goes on stages only its `iteration.completed`: one id kept for it.
    deferCompletion: (iteration) => log.reserve(iteration, 1),
    dropHeld: () => log.dropHeld(),
    appendsOnly: (exitReason, toolResults) => !(exitReason === 'continue' && toolResults.some(isAwaitingApproval)),
    iterationCompleted: (record) => {
      log.release();
      // Iterations written together complete one after the other: only the one that closed takes the close.
      if (pendingClose?.record === record) {
        closedWith = pendingClose.prepared;
        rememberedWith = pendingClose.remembered;
        pendingClose = undefined;
      }
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
    closed: () => closedWith,
    remembered: () => rememberedWith,
  };

  /** Adds what the turn remembers to the commit of its close; true when nothing is left to remember. */
  function rememberWithClose(remember: NonNullable<CloseWithLastIteration['remember']>, transaction: unknown, records: IterationRecord[]): boolean {
    const { memory } = turnMemory({ turnId: owner.turnId, question: remember.question, best: bestDraft(records), config: remember.config });
    if (!memory) return true;
    try {
      return ctx.brain.rememberWith?.(transaction, remember.scope, memory, remember.known) ?? false;
    } catch {
      return false; // an invalid memory: the separate remember reports it
    }
  }

  function closeWith(record: IterationRecord, turn: { records: readonly IterationRecord[]; toolsUsed: ReadonlySet<string> }, { model, startedAtMs }: CloseWithLastIteration): PreparedClose {
    const iterations = [...turn.records, record].map(closingDraftOfRecord);
    return prepareClose(ctx, { owner, model, startedAtMs, exitReason: record.exitReason as ExitReason, iterations, toolsUsed: [...turn.toolsUsed], resumes: 0 });
  }
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
