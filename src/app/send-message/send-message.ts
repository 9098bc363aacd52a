import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { createBrainLearner, runTurnLoop, traceTurn, type TurnLoopResult } from '../turn/index.js';
import type { ToolSet } from '../../ports/tools.js';
import { finishTurn } from './finish-turn.js';
import { prepareTurn, type PreparedTurn } from './prepare-turn.js';
import { recallForTurn } from './recall-for-turn.js';
import { rememberTurn } from './remember-turn.js';
import type { IterationOwner } from './save-iteration.js';
import { startTurn } from './start-turn.js';
import type { OnTurnEvent, TurnCompleted } from './turn-events.js';
import { createTurnSink } from './turn-sink.js';

export interface SendMessageInput {
  caller: Caller;
  conversationId: string;
  content: string;
  /** Aborted when the client disconnects: the model call is cancelled, the turn still closes. */
  signal?: AbortSignal;
  onEvent?: OnTurnEvent;
}

/**
 * `POST /v1/conversations/:id/messages` (SPEC §3): refuses what cannot run ({@link prepareTurn}),
 * else runs the turn ({@link runPreparedTurn}).
 */
export async function sendMessage(ctx: AppContext, input: SendMessageInput): Promise<Result<TurnCompleted, Failure>> {
  const prepared = await prepareTurn(ctx, input);
  if (!prepared.ok) return prepared;
  return ok(await runPreparedTurn(ctx, prepared.value, input));
}

/**
 * Runs a prepared turn: stores the user message and the turn with `chat.turn_started`, recalls
 * memories, loads the tools, runs the loop (each iteration stored with its event), then stores the
 * answer, closes the turn and emits `chat.turn_complete` — also after a disconnect or a failure — and
 * remembers the exchange.
 */
export async function runPreparedTurn(ctx: AppContext, prepared: PreparedTurn, { caller, signal, onEvent = () => undefined }: Pick<SendMessageInput, 'caller' | 'signal' | 'onEvent'>): Promise<TurnCompleted> {
  const { text, conversationId, capsule, enabledCapabilities, model } = prepared;
  const started = await startTurn(ctx, prepared, caller);
  const { turnId, seed, settings } = started;
  const scope = { tenantId: caller.tenantId, capsuleId: capsule.id };
  const owner: IterationOwner = { turnId, conversationId, ...scope };
  return traceTurn({ capsuleId: capsule.id, capsuleName: capsule.name, conversationId, turnId, model: model.id }, async (span) => {
    onEvent({ event: 'turn.started', data: { turn_id: turnId } });
    let toolSet: ToolSet | undefined;
    let result: TurnLoopResult | undefined;
    try {
      const memories = settings.memoryOff ? [] : await recallForTurn(ctx, scope, { query: text, seed });
      toolSet = settings.degraded ? undefined : await ctx.toolRunner.load({ ...scope, capabilities: enabledCapabilities, toolPolicy: capsule.toolPolicy });
      result = await runTurnLoop(
        {
          model,
          tools: toolSet ?? { definitions: [], run: async () => [] },
          learner: createBrainLearner(ctx, { ...scope, seed }),
          clock: ctx.clock,
          signal,
          toolContext: { ...scope, userId: caller.userId, turnId },
          sink: createTurnSink(ctx, owner, onEvent),
        },
        { turnId, ...scope, userId: caller.userId, seed, systemPrompt: capsule.systemPrompt, history: started.history, userMessage: text, memories, settings, startState: started.startState },
      );
      if (result.error && result.error.code.startsWith('LLM_')) ctx.health.report('llm', false);
    } catch (cause) {
      ctx.logger.error({ err: cause, turn_id: turnId }, 'turn failed outside the loop');
      result = { iterations: result?.iterations ?? [], exitReason: signal?.aborted ? 'cancelled' : 'error', error: { code: 'INTERNAL', message: (cause as Error).message, iteration: 0 }, tokensUsed: 0, toolsUsed: [] };
    } finally {
      await toolSet?.close().catch((cause) => ctx.logger.warn({ err: cause }, 'closing tools failed'));
    }

    const completed = await finishTurn(ctx, owner, { model: model.id, startedAtMs: started.startedAtMs, result });
    if (result.error) onEvent({ event: 'error', data: { code: result.error.code, message: result.error.message } });
    onEvent({ event: 'turn.completed', data: completed });
    rememberTurn(ctx, scope, { turnId, question: text, answer: completed.content, score: completed.convergence_score });
    span.setAttributes({ 'soma.exit_reason': completed.exit_reason, 'soma.iterations': completed.iterations, ...(completed.convergence_score === null ? {} : { 'soma.convergence_score': completed.convergence_score }) });
    return completed;
  });
}
