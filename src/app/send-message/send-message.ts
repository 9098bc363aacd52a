import { SomaError, type Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { prepareTurn, type PreparedTurn } from './prepare-turn.js';
import { launchTurn } from './run-turn.js';
import { startTurn } from './start-turn.js';
import type { OnTurnEvent, TurnRunOutcome } from './turn-events.js';

export interface SendMessageInput {
  caller: Caller;
  conversationId: string;
  content: string;
  /** Aborted when the client disconnects: the model call is cancelled, the turn still closes. */
  signal?: AbortSignal;
  /** Sees each SSE event of the turn (with its id) as it is emitted. */
  onEvent?: OnTurnEvent;
}

/**
 * `POST /v1/conversations/:id/messages` (SPEC §3): refuses what cannot run ({@link prepareTurn}),
 * else runs the turn to its end ({@link runPreparedTurn}): its answer, or its pause for approval.
 */
export async function sendMessage(ctx: AppContext, input: SendMessageInput): Promise<Result<TurnRunOutcome, Failure>> {
  const prepared = await prepareTurn(ctx, input);
  if (!prepared.ok) return prepared;
  return runPreparedTurn(ctx, prepared.value, input);
}

/** Runs a prepared turn ({@link startPreparedTurn}) and waits for its answer or its pause. */
export async function runPreparedTurn(ctx: AppContext, prepared: PreparedTurn, input: Pick<SendMessageInput, 'caller' | 'signal' | 'onEvent'>): Promise<Result<TurnRunOutcome, Failure>> {
  const started = await startPreparedTurn(ctx, prepared, input);
  return started.ok ? ok(await started.value.done) : started;
}

/**
 * Starts a prepared turn: stores the user message and the turn with `chat.turn_started` and its
 * `turn.started` SSE event — answering once that committed — and runs it in this process (`ctx.live`) — recall, tools, the loop
 * with each iteration stored with its events, the close (also after a disconnect or a fault) —
 * whether or not anybody waits for `done`. Refused with NOT_READY while the server drains, and with
 * RATE_LIMITED (nothing written) when the tenant's turns of this minute are taken.
 */
export async function startPreparedTurn(
  ctx: AppContext,
  prepared: PreparedTurn,
  { caller, signal, onEvent }: Pick<SendMessageInput, 'caller' | 'signal' | 'onEvent'>,
): Promise<Result<{ turnId: string; done: Promise<TurnRunOutcome> }, Failure>> {
  if (ctx.live.draining) throw new SomaError('NOT_READY', 'this server is shutting down and starts no new turn; send the message again (to another server)', { retryable: true });
  const { text, conversationId, capsule, enabledCapabilities, model } = prepared;
  const start = await startTurn(ctx, prepared, caller, onEvent);
  if (!start.ok) return start;
  const started = start.value;
  // The run goes on while the start's write is in flight (its recall, its lane, its first draft); it
  // writes and calls tools only once that write committed, and gives up, writing nothing, if it did not.
  const durable = started.committed.then((written) => {
    if (!written.ok) throw new SomaError(written.error.code, written.error.message);
  });
  durable.catch(() => undefined);
  const done = launchTurn(
    ctx,
    {
      owner: { turnId: started.turnId, conversationId, tenantId: caller.tenantId, capsuleId: capsule.id },
      userId: caller.userId,
      capsule,
      capabilities: enabledCapabilities,
      model,
      text,
      seed: started.seed,
      settings: started.settings,
      startState: started.startState,
      history: started.history,
      startedAtMs: started.startedAtMs,
      log: started.log,
      lane: started.lane,
      learning: prepared.split.learning,
      known: { learningConfig: prepared.capsule.learningConfig },
      ...(started.recalled ? { recalled: started.recalled } : {}),
      ...(prepared.scorer ? { scorer: prepared.scorer } : {}),
      resumes: 0,
      started: durable,
    },
    { ...(signal ? { signal } : {}) },
  );
  // A start not written: its run ends storing nothing, and `done`'s rejection is already handled by `ctx.live`.
  const written = await started.committed;
  if (!written.ok) return written;
  return ok({ turnId: started.turnId, done });
}
