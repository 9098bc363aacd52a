import { memoryLine, type HistoryMessage } from '../../core/context/index.js';
import { bestDraft } from '../../core/turn/index.js';
import type { ChatModel } from '../../ports/chat-model.js';
import type { KnownCapsule } from '../../ports/brain.js';
import type { LearningConfig } from '../../core/learning/index.js';
import type { LearnedState, Weights } from '../../ports/learning.js';
import type { ApprovalRecord, CapsuleRecord } from '../../ports/store.js';
import type { CapabilityConfig, ToolSet } from '../../ports/tools.js';
import { SomaError } from '../../shared/errors.js';
import type { AppContext } from '../context.js';
import type { TurnEventLog } from '../turn-event-log.js';
import { createBrainLearner, runTurnLoop, traceTurn, type ClosedLoopResult, type IterationRecord, type AnswerScorer, type RecalledForTurn, type TurnLoopResult, type TurnSettings } from '../turn/index.js';
import { resolveApprovals } from './apply-approvals.js';
import { closingDraftOfRecord, finishTurnDurably } from './finish-turn.js';
import { recallForTurn } from './recall-for-turn.js';
import { rememberTurn, turnMemory } from './remember-turn.js';
import type { IterationOwner } from './save-iteration.js';
import type { TurnCompleted, TurnPaused, TurnRunOutcome } from './turn-events.js';
import { createTurnSink, type LiveTurnSink } from './turn-sink.js';

/** Default of `tool_policy.approval_timeout_s`: a day. */
export const DEFAULT_APPROVAL_TIMEOUT_S = 86_400;

/** Everything one run of a turn needs: its first run, or a run that goes on after a pause or a close. */
export interface TurnRun {
  owner: IterationOwner;
  userId: string;
  capsule: Pick<CapsuleRecord, 'name' | 'systemPrompt' | 'toolPolicy'>;
  capabilities: CapabilityConfig[];
  model: ChatModel;
  /** The user's message. */
  text: string;
  seed: number;
  settings: TurnSettings;
  startState: LearnedState;
  history: HistoryMessage[];
  /** When the turn started (its answer's latency counts from here). */
  startedAtMs: number;
  log: TurnEventLog;
  /** The weights the turn recalls with (its exploration draw) and, per explored weight, the same with its sign flipped. */
  lane: { weights: Weights; flipped: Partial<Record<keyof Weights, Weights>> };
  /** The turn's recall when it already runs (started with the turn); else the run recalls. */
  recalled?: Promise<RecalledForTurn[]>;
  /** The capsule as the turn's first run read it a moment ago (its remember need not read it again); absent on a resumed run. */
  known?: KnownCapsule;
  /** The capsule's learning constants as the turn started (what it remembers with). */
  learning: LearningConfig;
  /** The capsule's scorer: its score becomes the reward's quality instead of self-confidence. */
  scorer?: AnswerScorer;
  /** How many times the turn was resumed after a close (0 on its first run). */
  resumes: number;
  /** A first run that began while its start was being written: settles once that committed (rejects when it did not). */
  started?: Promise<void>;
  /** A run that goes on: the committed iterations, the memories they used, and the turn's approvals. */
  resume?: {
    records: IterationRecord[];
    /** The memory lane the committed iterations used (none committed: the run recalls). */
    memories?: RecalledForTurn[];
    approvals: ApprovalRecord[];
    /** The last iteration when its `rlm_iterations_total` count is still to be made here (after a pause). */
    uncounted?: IterationRecord;
  };
}

/**
 * Runs a turn in this process, registered in `ctx.live` until it pauses or closes, whatever the
 * client does (`signal` — the client's disconnect — cancels it; a drain stops it). Resolves with the
 * answer, or the pause.
 */
export function launchTurn(ctx: AppContext, run: TurnRun, { signal }: { signal?: AbortSignal } = {}): Promise<TurnRunOutcome> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const done = runTurn(ctx, run, controller.signal).finally(() => signal?.removeEventListener('abort', onAbort));
  ctx.live.add({ turnId: run.owner.turnId, log: run.log, stop: (reason) => controller.abort(reason), done: done.catch(() => undefined) });
  return done;
}

/**
 * One run: recall (or the recorded memories), tools, the decisions of a pause applied, the loop (each
 * iteration stored with its events), then — unless the turn paused — the close, which outlasts a
 * database outage, and the exchange remembered.
 */
async function runTurn(ctx: AppContext, run: TurnRun, signal: AbortSignal): Promise<TurnRunOutcome> {
  const { owner, model, settings, log } = run;
  const scope = { tenantId: owner.tenantId, capsuleId: owner.capsuleId };
  const approvalTimeoutS = run.capsule.toolPolicy.approval_timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S;
  const sink = createTurnSink(ctx, {
    owner,
    log,
    approvalTimeoutS,
    ...(run.resume?.uncounted ? { counted: run.resume.uncounted } : {}),
    // A first run closes with the iteration that ends it; a resumed run's close replaces an earlier answer (closeRun).
    ...(run.resumes === 0
      ? { close: { model: model.id, startedAtMs: run.startedAtMs, ...(run.known ? { remember: { scope: { ...scope, userId: run.userId }, question: run.text, config: run.learning, known: run.known } } : {}) } }
      : {}),
  });
  return traceTurn({ capsuleId: owner.capsuleId, capsuleName: run.capsule.name, conversationId: owner.conversationId, turnId: owner.turnId, model: model.id }, async (span) => {
    let toolSet: ToolSet | undefined;
    let result: TurnLoopResult | undefined;
    try {
      const memories = run.resume?.memories ?? (settings.memoryOff ? [] : await (run.recalled ?? recallForTurn(ctx, { ...scope, userId: run.userId }, { query: run.text, weights: run.lane.weights })));
      toolSet = settings.degraded ? undefined : await ctx.toolRunner.load({ ...scope, capabilities: run.capabilities, toolPolicy: run.capsule.toolPolicy });
      const toolContext = { ...scope, userId: run.userId, turnId: owner.turnId };
      const resume = run.resume ? await resolveApprovals(ctx, { owner, log, toolSet, toolContext, records: run.resume.records, approvals: run.resume.approvals, signal }) : undefined;
      result = await runTurnLoop(
        { model, tools: toolSet ?? { definitions: [], run: async () => [] }, learner: createBrainLearner(ctx, { ...scope, seed: run.seed }), ...(run.scorer ? { scorer: run.scorer } : {}), ...(run.started ? { started: run.started } : {}), lingerMs: ctx.settings.iterationLingerMs ?? 0, clock: ctx.clock, signal, toolContext, sink },
        { turnId: owner.turnId, ...scope, userId: run.userId, seed: run.seed, systemPrompt: run.capsule.systemPrompt, history: run.history, userMessage: run.text, memories, lane: run.lane, settings, startState: run.startState, ...(resume ? { resume } : {}) },
      );
      // Health per model (SPEC §13.1): this capsule's model only, so another capsule's turns stay whole.
      if (result.error?.code.startsWith('LLM_')) ctx.health.reportModel(model.id, false);
      else if (result.iterations.length > 0) ctx.health.reportModel(model.id, true);
    } catch (cause) {
      ctx.logger.error({ err: cause, turn_id: owner.turnId }, 'turn failed outside the loop');
      const records = run.resume?.records ?? [];
      result = { iterations: records, exitReason: signal.aborted ? 'cancelled' : 'error', error: { code: 'INTERNAL', message: (cause as Error).message, iteration: records.length }, tokensUsed: 0, toolsUsed: [] };
    } finally {
      await toolSet?.close().catch((cause) => ctx.logger.warn({ err: cause }, 'closing tools failed'));
    }

    // A start that was not written (the minute's turns taken, a database fault): the run kept nothing, and closes nothing.
    if (run.started && (await run.started.then(() => false, () => true))) {
      log.end('closed');
      throw new SomaError('INTERNAL', 'the turn was not started (its start was not written); its run stored nothing');
    }
    if (result.paused) {
      log.end('paused');
      span.setAttributes({ 'soma.paused_at': result.paused.iteration });
      return pausedOutcome(owner.turnId, result.paused.iteration, log);
    }
    const completed = await closeRun(ctx, run, result, sink);
    if (!(sink.closed() && sink.remembered())) rememberTurn(ctx, { ...scope, userId: run.userId }, { turnId: owner.turnId, question: run.text, best: result.best, config: run.learning, ...(run.known ? { known: run.known } : {}) });
    countMemoryLineLater(model, turnMemory({ turnId: owner.turnId, question: run.text, best: result.best, config: run.learning }).memory);
    span.setAttributes({ 'soma.exit_reason': completed.exit_reason, 'soma.iterations': completed.iterations, ...(completed.convergence_score === null ? {} : { 'soma.convergence_score': completed.convergence_score }) });
    return completed;
  });
}

/**
 * The turn's new memory is recalled by the capsule's next turns, whose memory lane counts its line's
 * tokens: counted once now, after the answer, off any turn's path (the model's tokenizer keeps the
 * count), instead of on the next turn's — with tiktoken a new line of ~350 characters is 0.1–0.4 ms.
 */
function countMemoryLineLater(model: ChatModel, memory: { content: string } | undefined): void {
  if (!memory) return;
  setImmediate(() => {
    try {
      model.countTokens(memoryLine(memory));
    } catch {
      // only a warm-up: the lane counts it again when it needs it
    }
  }).unref();
}

/** Closes the run's turn: `error` (when it failed) goes out at once, `turn.completed` with the close. */
async function closeRun(ctx: AppContext, run: TurnRun, result: ClosedLoopResult, sink: LiveTurnSink): Promise<TurnCompleted> {
  const { log, owner } = run;
  const merged = sink.closed();
  if (merged && !result.error && merged.completion.exit_reason === result.exitReason && merged.completion.iterations === result.iterations.length) {
    // Closed in the last iteration's commit, `turn.completed` released with it.
    ctx.metrics.turn(result.exitReason, result.iterations.length, merged.latencyMs / 1000);
    sink.settle(result.exitReason);
    log.end('closed');
    return merged.completion;
  }
  if (result.error) log.emit('error', { code: result.error.code, message: result.error.message });
  const close = {
    owner,
    model: run.model.id,
    startedAtMs: run.startedAtMs,
    exitReason: result.exitReason,
    ...(result.error ? { error: result.error } : {}),
    iterations: result.iterations.map(closingDraftOfRecord),
    toolsUsed: result.toolsUsed,
    resumes: run.resumes,
  };
  try {
    const stored = await finishTurnDurably(
      ctx,
      close,
      (completion) => {
        log.stage([['turn.completed', completion]]);
        return log.pendingBatch();
      },
      { giveUp: () => ctx.live.stopped, onRetry: () => log.unstage() },
    );
    if (stored) {
      log.release();
      sink.settle(result.exitReason);
      return stored;
    }
    ctx.logger.warn({ turn_id: owner.turnId }, 'the turn was closed already (by another process, or by a commit whose reply was lost)');
    // The close that did commit is the answer: its `turn.completed`, as stored.
    const closedAlready = await storedCompletion(ctx, owner.turnId).catch(() => undefined);
    if (closedAlready) return closedAlready;
  } catch (cause) {
    ctx.logger.error({ err: cause, turn_id: owner.turnId }, 'closing the turn failed; the crash sweep closes it later');
  } finally {
    log.end('closed');
  }
  const best = bestDraft(close.iterations);
  return { turn_id: owner.turnId, message_id: '', content: best?.content ?? '', iterations: close.iterations.length, exit_reason: result.exitReason, convergence_score: best?.convergenceScore ?? null, tools_used: result.toolsUsed };
}

/** The turn's last stored `turn.completed` (a resumed turn has one per close). */
async function storedCompletion(ctx: AppContext, turnId: string): Promise<TurnCompleted | undefined> {
  const events = await ctx.store.streamEvents.list(turnId, { after: 0 });
  return events.findLast((e) => e.event === 'turn.completed')?.data as TurnCompleted | undefined;
}

function pausedOutcome(turnId: string, iteration: number, log: TurnEventLog): TurnPaused {
  const approvals = log
    .since(0)
    .filter((e) => e.event === 'tool.approval_required' && (e.data as { iteration: number }).iteration === iteration)
    .map((e) => e.data as TurnPaused['approvals'][number]);
  return { turn_id: turnId, status: 'awaiting_approval', approvals };
}
