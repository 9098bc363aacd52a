import { bestDraft, type ExitReason, type ScoredDraft } from '../../core/turn/index.js';
import type { Repositories, StoredIteration, StreamEventBatch, TurnStatus } from '../../ports/store.js';
import { hasErrorCode } from '../../shared/errors.js';
import type { AppContext } from '../context.js';
import type { IterationRecord } from '../turn/index.js';
import { recordEvent } from '../events.js';
import type { IterationOwner } from './save-iteration.js';
import type { TurnCompleted } from './turn-events.js';

/** Status of a turn row from its exit reason. */
export function statusOf(exit: ExitReason): TurnStatus {
  if (exit === 'error') return 'failed';
  if (exit === 'cancelled' || exit === 'interrupted') return 'interrupted';
  return 'completed';
}

/** Exit reasons of a turn stopped before it finished: its answer is the best draft it had (`metadata.partial`). */
const stoppedEarly: ReadonlySet<string> = new Set(['error', 'cancelled', 'interrupted', 'budget_exhausted']);

/** A committed iteration as the close needs it. */
export interface ClosingDraft extends ScoredDraft {
  exitReason: string;
  completionTokens: number;
  model: string;
}

/** A committed iteration of this run as a {@link ClosingDraft}. */
export function closingDraftOfRecord(r: Pick<IterationRecord, 'iteration' | 'content' | 'convergenceScore' | 'exitReason' | 'completionTokens' | 'model'>): ClosingDraft {
  return { iteration: r.iteration, content: r.content, convergenceScore: r.convergenceScore, exitReason: r.exitReason, completionTokens: r.completionTokens, model: r.model };
}

/** A stored iteration row as a {@link ClosingDraft}. */
export function closingDraftOf(row: StoredIteration): ClosingDraft {
  return { iteration: row.iterationNumber, content: row.content, convergenceScore: row.convergenceScore, exitReason: row.exitReason, completionTokens: row.completionTokens, model: row.model };
}

/**
 * A turn that ended on an error may have committed more than it knows: when the connection is cut
 * after PostgreSQL committed an iteration's statement but before its reply arrived, the turn counts
 * the write as failed. Its close then counts what the database holds (one read, only on errors), so
 * the turn's iteration count, its rows and their events agree.
 */
async function withCommittedIterations(ctx: Pick<AppContext, 'store'>, close: TurnClose): Promise<TurnClose> {
  if (!close.error) return close;
  const rows = await ctx.store.iterations.listByTurn(close.owner.turnId);
  return rows.length > close.iterations.length ? { ...close, iterations: rows.map(closingDraftOf) } : close;
}

export interface TurnClose {
  owner: IterationOwner;
  /** The model id of the turn (for an empty answer). */
  model: string;
  startedAtMs: number;
  exitReason: ExitReason;
  error?: { code: string; message: string; iteration: number };
  /** The turn's committed iterations. */
  iterations: readonly ClosingDraft[];
  toolsUsed: string[];
  /** How many times the turn was resumed (0 on its first run): its answer replaces the earlier one. */
  resumes: number;
}

/** A turn's close ready to be written: its answer and event, and the writes that store them. */
export interface PreparedClose {
  completion: TurnCompleted;
  latencyMs: number;
  /**
   * Writes the close inside `tx` (with `streamEvents`, the SSE events stored with it): false, with
   * nothing else written, when the turn was no longer running.
   */
  write(tx: Repositories, streamEvents: StreamEventBatch | undefined): Promise<boolean>;
}

/**
 * A turn's close: its best committed draft becomes the assistant message (replacing an earlier run's
 * answer; `metadata.partial` when the turn stopped early), the turn row gets its exit reason —
 * recorded on its last iteration too — and `chat.turn_complete` is written. Closes only a turn that
 * is still `running`.
 */
export function prepareClose(ctx: Pick<AppContext, 'ids' | 'clock'>, close: TurnClose): PreparedClose {
  const { owner, exitReason, error, iterations } = close;
  const { turnId, conversationId, tenantId, capsuleId } = owner;
  const best = bestDraft(iterations);
  const last = iterations.at(-1);
  const content = best?.content ?? '';
  const messageId = ctx.ids.uuid();
  const completedAt = new Date(ctx.clock.now());
  const latencyMs = Math.max(0, completedAt.getTime() - close.startedAtMs);
  const partial = stoppedEarly.has(exitReason);
  const completion: TurnCompleted = {
    turn_id: turnId,
    message_id: messageId,
    content,
    iterations: iterations.length,
    exit_reason: exitReason,
    convergence_score: best?.convergenceScore ?? null,
    tools_used: close.toolsUsed,
  };
  const answer = {
    content,
    tokenCount: best?.completionTokens ?? 0,
    model: best?.model ?? close.model,
    latencyMs,
    metadata: {
      exit_reason: exitReason,
      iterations: iterations.length,
      best_iteration: best?.iteration ?? null,
      convergence_score: best?.convergenceScore ?? null,
      tools_used: close.toolsUsed,
      partial,
      ...(close.resumes > 0 ? { resumes: close.resumes } : {}),
      ...(error ? { error } : {}),
    },
    createdAt: completedAt,
  };
  const write = async (tx: Repositories, streamEvents: StreamEventBatch | undefined) => {
    const finished = await tx.turns.finish(turnId, {
      status: statusOf(exitReason),
      exitReason,
      iterations: iterations.length,
      convergenceScore: best?.convergenceScore ?? null,
      error: error ?? null,
      completedAt,
      ...(streamEvents ? { streamEvents } : {}),
    });
    if (!finished) return false;
    if (last && last.exitReason !== exitReason) await tx.iterations.markLastExit(turnId, last.iteration, exitReason);
    const existing = close.resumes > 0 ? await answerReplaced(tx, turnId, answer) : undefined;
    if (existing) completion.message_id = existing;
    else {
      await tx.messages.insert({ id: messageId, conversationId, turnId, role: 'assistant', ...answer });
      await tx.conversations.countMessages(conversationId, 1);
    }
    await recordEvent(tx, ctx, {
      eventType: 'chat.turn_complete',
      tenantId,
      turnId,
      capsuleId,
      run: close.resumes,
      occurredAt: completedAt,
      payload: { ...completion, conversation_id: conversationId, latency_ms: latencyMs, partial, ...(error ? { error } : {}) },
    });
    return true;
  };
  return { completion, latencyMs, write };
}

/**
 * Closes a turn ({@link prepareClose}) in one commit, with the SSE events `events(completion)` gives.
 * Resolves undefined (nothing written) when another process closed it first.
 */
export async function finishTurn(
  ctx: Pick<AppContext, 'store' | 'ids' | 'clock' | 'metrics'>,
  close: TurnClose,
  events: (completion: TurnCompleted) => StreamEventBatch | undefined,
): Promise<TurnCompleted | undefined> {
  const { completion, latencyMs, write } = prepareClose(ctx, close);
  const close_ = (tx: Repositories) => write(tx, events(completion));
  // A first close only writes (the turn row, the answer, the message count, the event): one statement,
  // one round trip, which writes nothing when the turn was no longer running. A resumed turn's close
  // reads the answer it replaces, so it runs as a transaction.
  const closed = close.resumes > 0 ? await ctx.store.transaction(close_) : ((await ctx.store.oneStatement(close_)) ?? false);
  if (!closed) return undefined;
  ctx.metrics.turn(close.exitReason, close.iterations.length, latencyMs / 1000);
  return completion;
}

/** A resumed turn's close replaces the answer of its earlier close (one answer per turn); the message id when it did. */
async function answerReplaced(tx: Repositories, turnId: string, answer: Parameters<Repositories['messages']['replaceAnswer']>[1]): Promise<string | undefined> {
  const replaced = await tx.messages.replaceAnswer(turnId, answer);
  if (!replaced) return undefined;
  const messages = await tx.messages.listByTurn(turnId);
  return messages.find((m) => m.role === 'assistant')?.id;
}

/**
 * {@link finishTurn} that outlasts a database outage (SPEC §13.4): while the database cannot be
 * reached it tries again — every `retryMs`, so the turn closes within about that of the database's
 * return — until `giveUp()` says the process is stopping (then the crash sweep of the next start
 * closes it).
 */
export async function finishTurnDurably(
  ctx: Pick<AppContext, 'store' | 'ids' | 'clock' | 'metrics' | 'health' | 'logger'>,
  close: TurnClose,
  events: (completion: TurnCompleted) => StreamEventBatch | undefined,
  { retryMs = 500, giveUp, onRetry }: { retryMs?: number; giveUp: () => boolean; onRetry?: () => void },
): Promise<TurnCompleted | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      const completion = await finishTurn(ctx, await withCommittedIterations(ctx, close), events);
      ctx.health.report('database', true);
      if (attempt > 0) {
        ctx.logger.info({ turn_id: close.owner.turnId, attempts: attempt + 1 }, 'the database is back; the turn is closed');
      }
      return completion;
    } catch (cause) {
      onRetry?.();
      if (!hasErrorCode(cause, 'DATABASE_UNAVAILABLE') || giveUp()) throw cause;
      if (attempt === 0) ctx.logger.warn({ turn_id: close.owner.turnId }, 'the database cannot be reached; the turn closes as soon as it is back');
      ctx.health.report('database', false);
      await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs * 2 ** Math.min(attempt, 3), retryMs * 2)));
    }
  }
}
