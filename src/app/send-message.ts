import { randomUUID } from 'node:crypto';
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { tables, type Executor, type Tx } from '../adapters/store/index.js';
import { iterationLimits, type ExitReason } from '../core/turn/index.js';
import type { LearnedState, Neuromodulators, Weights } from '../ports/learning.js';
import type { ToolCall } from '../ports/chat-model.js';
import type { ToolOutcome, ToolSet } from '../ports/tools.js';
import { SomaError } from '../shared/errors.js';
import { sha256Hex, stableSeed } from '../shared/hash.js';
import { capabilityConfigs, loadCapsule, splitLearningConfig } from './capsules.js';
import type { AppContext } from './context.js';
import { loadConversation } from './conversations.js';
import { writeEvent } from './events.js';
import { routeModel } from './model-router.js';
import type { Caller } from './tenancy.js';
import { createBrainLearner, withTimeout } from './turn/brain-learner.js';
import { traceTurn } from './turn/tracing.js';
import { runTurnLoop, type IterationRecord, type RecalledForTurn, type TurnLoopResult, type TurnSettings } from './turn/index.js';

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

export interface TurnCompleted {
  turn_id: string;
  message_id: string;
  content: string;
  iterations: number;
  exit_reason: ExitReason;
  convergence_score: number | null;
  tools_used: string[];
}

export interface SendMessageInput {
  caller: Caller;
  conversationId: string;
  content: string;
  /** Aborted when the client disconnects: the model call is cancelled, the turn still closes. */
  signal?: AbortSignal;
  onEvent?: (event: TurnEvent) => void;
}

/** Status of a turn row from its exit reason. */
function statusOf(exit: ExitReason): 'completed' | 'failed' | 'interrupted' {
  if (exit === 'error') return 'failed';
  if (exit === 'cancelled') return 'interrupted';
  return 'completed';
}

/**
 * `POST /v1/conversations/:id/messages` (SPEC §3): stores the user message and the turn with
 * `chat.turn_started` in one transaction, runs the loop (each iteration stored with its event), then
 * stores the answer, closes the turn and emits `chat.turn_complete` in one transaction — in a
 * `finally`, so a disconnect or a failure still closes the turn consistently.
 */
export async function sendMessage(ctx: AppContext, input: SendMessageInput): Promise<TurnCompleted> {
  return runPreparedTurn(ctx, await prepareTurn(ctx, input), input);
}

/** A validated turn request: nothing is written yet. */
export type PreparedTurn = Awaited<ReturnType<typeof prepareTurn>>;

/**
 * Everything that can refuse a message (empty content, unknown conversation, observer, no model that
 * fits, invalid capsule settings), checked before anything is written — so the HTTP layer can answer
 * a refusal with a plain 4xx before it opens a stream.
 */
export async function prepareTurn(ctx: AppContext, { caller, conversationId, content }: Pick<SendMessageInput, 'caller' | 'conversationId' | 'content'>) {
  const { database } = ctx;
  const text = content.trim();
  if (text === '') throw new SomaError('VALIDATION_FAILED', 'content must not be empty');

  // Everything that can refuse the request happens before anything is written.
  const { conversation } = await loadConversation(database.db, caller, conversationId, { forSend: true });
  const { row: capsule, capabilities } = await loadCapsule(database.db, caller, conversation.capsuleId);
  const split = splitLearningConfig(capsule.learningConfig as Record<string, unknown>);
  const enabledCapabilities = capabilityConfigs(capabilities).filter((c) => c.enabled);
  const model = routeModel({
    capsuleModel: capsule.model,
    allowedModels: capsule.allowedModels,
    defaultModel: ctx.settings.defaultModel,
    required: enabledCapabilities.length > 0 ? { tools: true } : {},
    factory: ctx.models,
  });
  const limits = iterationLimits({
    capsule: { rlmEnabled: capsule.rlmEnabled, maxIterations: capsule.rlmMaxIterations, minIterations: capsule.rlmMinIterations, threshold: capsule.rlmConvergenceThreshold },
    env: ctx.settings.rlm,
  });
  return { text, conversationId, capsule, split, enabledCapabilities, model, limits };
}

/** Runs a prepared turn: writes it, iterates, and closes it (see {@link sendMessage}). */
export async function runPreparedTurn(
  ctx: AppContext,
  { text, conversationId, capsule, split, enabledCapabilities, model, limits }: PreparedTurn,
  { caller, signal, onEvent = () => undefined }: Pick<SendMessageInput, 'caller' | 'signal' | 'onEvent'>,
): Promise<TurnCompleted> {
  const { database, clock } = ctx;
  const turnId = randomUUID();
  const seed = stableSeed(turnId);
  const startedAtMs = clock.now();
  const degraded = ctx.health.degraded();
  const memoryOff = ctx.health.state('brain') === 'unhealthy';
  const startState: LearnedState = {
    weights: capsule.learnedWeights as Weights,
    neuromodulators: capsule.neuromodulatorState as Neuromodulators,
    rewardBaseline: capsule.rewardBaseline,
  };
  const temperature = split.tauDrivesTemperature ? startState.weights.tau : split.temperature;
  const settings: TurnSettings = {
    minIterations: limits.minIterations,
    maxIterations: limits.maxIterations,
    threshold: limits.threshold,
    tokenBudget: ctx.settings.turnTokenBudget,
    deadlineMs: ctx.settings.turnDeadlineMs,
    contextTokens: ctx.settings.contextTokens,
    maxOutputTokens: ctx.settings.maxOutputTokens,
    ...(temperature !== undefined ? { temperature } : {}),
    degraded,
    memoryOff,
  };

  const history = await database.db
    .select({ role: tables.messages.role, content: tables.messages.content })
    .from(tables.messages)
    .where(and(eq(tables.messages.conversationId, conversationId), sql`${tables.messages.role} in ('user','assistant')`))
    .orderBy(desc(tables.messages.createdAt))
    .limit(20);
  history.reverse();
  const historyMessages = history.map((m) => ({ role: m.role === 'assistant' ? ('assistant' as const) : ('user' as const), content: m.content }));

  const userMessageId = randomUUID();
  await database.db.transaction(async (tx) => {
    await tx.insert(tables.turns).values({
      id: turnId,
      conversationId,
      capsuleId: capsule.id,
      tenantId: caller.tenantId,
      userId: caller.userId,
      status: 'running',
      inputHash: sha256Hex(text),
      seed,
      weightsStart: startState.weights,
      neuromodulatorsStart: startState.neuromodulators,
      settings: { ...settings, model: model.id, reward_baseline_start: startState.rewardBaseline, learning_config: split.overrides, single_shot: limits.singleShot },
      startedAt: new Date(startedAtMs),
    });
    await tx.insert(tables.messages).values({ id: userMessageId, conversationId, turnId, role: 'user', content: text, createdAt: new Date(startedAtMs) });
    await tx.update(tables.conversations).set({ messageCount: sql`${tables.conversations.messageCount} + 1` }).where(eq(tables.conversations.id, conversationId));
    await writeEvent(tx, {
      eventType: 'chat.turn_started',
      tenantId: caller.tenantId,
      turnId,
      capsuleId: capsule.id,
      payload: { conversation_id: conversationId, message_id: userMessageId, user_id: caller.userId, input_hash: sha256Hex(text), seed, model: model.id },
    });
  });
  return traceTurn({ capsuleId: capsule.id, capsuleName: capsule.name, conversationId, turnId, model: model.id }, async (span) => {
    onEvent({ event: 'turn.started', data: { turn_id: turnId } });

    let toolSet: ToolSet | undefined;
    let result: TurnLoopResult | undefined;
    try {
      const scope = { tenantId: caller.tenantId, capsuleId: capsule.id };
      const memories = memoryOff ? [] : await recallForTurn(ctx, scope, text, seed);
      toolSet = degraded ? undefined : await ctx.toolRunner.load({ ...scope, capabilities: enabledCapabilities, toolPolicy: capsule.toolPolicy as never });
      result = await runTurnLoop(
        {
          model,
          tools: toolSet ?? { definitions: [], run: async () => [] },
          learner: createBrainLearner(ctx, { tenantId: caller.tenantId, capsuleId: capsule.id, seed }),
          clock,
          signal,
          toolContext: { tenantId: caller.tenantId, capsuleId: capsule.id, userId: caller.userId, turnId },
          sink: {
            iterationStarted: (iteration) => onEvent({ event: 'iteration.started', data: { iteration } }),
            delta: (iteration, chunk) => onEvent({ event: 'iteration.delta', data: { iteration, text: chunk } }),
            toolCall: (iteration, call: ToolCall) => onEvent({ event: 'tool.call', data: { iteration, call_id: call.callId, name: call.name, args: call.args } }),
            toolResult: (iteration, outcome: ToolOutcome) =>
              onEvent({
                event: 'tool.result',
                data: { iteration, call_id: outcome.callId, ok: outcome.ok, ...(outcome.ok ? { result: outcome.result } : { error: outcome.error ?? outcome.outcome }), latency_ms: outcome.latency_ms },
              }),
            saveIteration: (record, transaction) => saveIteration(ctx, { turnId, conversationId, tenantId: caller.tenantId, capsuleId: capsule.id, record, transaction: transaction as Tx | undefined }),
            iterationCompleted: (record) => {
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
          },
        },
        { turnId, tenantId: caller.tenantId, capsuleId: capsule.id, userId: caller.userId, seed, systemPrompt: capsule.systemPrompt, history: historyMessages, userMessage: text, memories, settings, startState },
      );
      if (result.error && result.error.code.startsWith('LLM_')) ctx.health.report('llm', false);
    } catch (cause) {
      ctx.logger.error({ err: cause, turn_id: turnId }, 'turn failed outside the loop');
      result = { iterations: result?.iterations ?? [], exitReason: signal?.aborted ? 'cancelled' : 'error', error: { code: 'INTERNAL', message: (cause as Error).message, iteration: 0 }, tokensUsed: 0, toolsUsed: [] };
    } finally {
      await toolSet?.close().catch((cause) => ctx.logger.warn({ err: cause }, 'closing tools failed'));
    }

    const completed = await finishTurn(ctx, { turnId, conversationId, tenantId: caller.tenantId, capsuleId: capsule.id, model: model.id, startedAtMs, result });
    if (result.error) onEvent({ event: 'error', data: { code: result.error.code, message: result.error.message } });
    onEvent({ event: 'turn.completed', data: completed });
    rememberTurn(ctx, { tenantId: caller.tenantId, capsuleId: capsule.id }, { turnId, question: text, answer: completed.content, score: completed.convergence_score });
    span.setAttributes({ 'soma.exit_reason': completed.exit_reason, 'soma.iterations': completed.iterations, ...(completed.convergence_score === null ? {} : { 'soma.convergence_score': completed.convergence_score }) });
    return completed;
  });
}

async function recallForTurn(ctx: AppContext, scope: { tenantId: string; capsuleId: string }, query: string, seed: number): Promise<RecalledForTurn[]> {
  try {
    const recalled = await withTimeout(ctx.brain.recall(scope, { query, top_k: 8, seed }), ctx.settings.brainTimeoutMs, 'memory recall');
    ctx.health.report('brain', true);
    return recalled.map((m) => ({ key: m.key, content: m.content, score: m.score }));
  } catch (cause) {
    ctx.health.report('brain', false);
    ctx.logger.warn({ err: cause }, 'memory recall failed; the memory lane is empty for this turn');
    return [];
  }
}

/** Stores an iteration and its event: inside `transaction` (the learning step's) when given, else in a transaction of its own. */
async function saveIteration(
  ctx: AppContext,
  { turnId, conversationId, tenantId, capsuleId, record, transaction }: { turnId: string; conversationId: string; tenantId: string; capsuleId: string; record: IterationRecord; transaction?: Tx },
) {
  const write = async (tx: Executor) => {
    await tx.insert(tables.rlmIterations).values({
      id: randomUUID(),
      turnId,
      conversationId,
      iterationNumber: record.iteration,
      content: record.content,
      llmOutput: record.llmOutput,
      weightsBefore: record.weightsBefore,
      weightsAfter: record.weightsAfter,
      weightDeltas: record.weightDeltas,
      neuromodulatorsBefore: record.neuromodulatorsBefore,
      neuromodulatorsAfter: record.neuromodulatorsAfter,
      model: record.model,
      confidence: record.confidence,
      latencyMs: record.latencyMs,
      toolCalls: record.toolCalls,
      toolResults: record.toolResults,
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
      convergenceScore: record.convergenceScore,
      exitReason: record.exitReason,
      metadata: record.metadata,
      startedAt: record.startedAt,
      completedAt: record.completedAt,
    });
    await writeEvent(tx, {
      eventType: 'chat.iteration_completed',
      tenantId,
      turnId,
      capsuleId,
      iteration: record.iteration,
      occurredAt: record.completedAt,
      payload: {
        conversation_id: conversationId,
        iteration_number: record.iteration,
        model: record.model,
        confidence: record.confidence,
        convergence_score: record.convergenceScore,
        exit_reason: record.exitReason,
        weights_before: record.weightsBefore,
        weights_after: record.weightsAfter,
        neuromodulators_after: record.neuromodulatorsAfter,
        tools_used: record.toolResults.map((o) => o.name),
        prompt_tokens: record.promptTokens,
        completion_tokens: record.completionTokens,
        latency_ms: record.latencyMs,
        learning: record.metadata.learning,
      },
    });
  };
  if (transaction) await write(transaction);
  else await ctx.database.db.transaction(write);
}

async function finishTurn(
  ctx: AppContext,
  { turnId, conversationId, tenantId, capsuleId, model, startedAtMs, result }: { turnId: string; conversationId: string; tenantId: string; capsuleId: string; model: string; startedAtMs: number; result: TurnLoopResult },
): Promise<TurnCompleted> {
  const best = result.best;
  const content = best?.content ?? '';
  const messageId = randomUUID();
  const completedAt = new Date(ctx.clock.now());
  const latencyMs = Math.max(0, completedAt.getTime() - startedAtMs);
  const completion: TurnCompleted = {
    turn_id: turnId,
    message_id: messageId,
    content,
    iterations: result.iterations.length,
    exit_reason: result.exitReason,
    convergence_score: best?.convergenceScore ?? null,
    tools_used: result.toolsUsed,
  };
  await ctx.database.db.transaction(async (tx) => {
    await tx.insert(tables.messages).values({
      id: messageId,
      conversationId,
      turnId,
      role: 'assistant',
      content,
      tokenCount: best?.completionTokens ?? 0,
      model: best?.model ?? model,
      latencyMs,
      metadata: {
        exit_reason: result.exitReason,
        iterations: result.iterations.length,
        best_iteration: best?.iteration ?? null,
        convergence_score: best?.convergenceScore ?? null,
        tools_used: result.toolsUsed,
        ...(result.error ? { error: result.error } : {}),
      },
      createdAt: completedAt,
    });
    await tx
      .update(tables.turns)
      .set({
        status: statusOf(result.exitReason),
        exitReason: result.exitReason,
        iterations: result.iterations.length,
        convergenceScore: best?.convergenceScore ?? null,
        error: result.error ?? null,
        completedAt,
      })
      .where(eq(tables.turns.id, turnId));
    await tx.update(tables.conversations).set({ messageCount: sql`${tables.conversations.messageCount} + 1` }).where(eq(tables.conversations.id, conversationId));
    await writeEvent(tx, {
      eventType: 'chat.turn_complete',
      tenantId,
      turnId,
      capsuleId,
      occurredAt: completedAt,
      payload: { ...completion, conversation_id: conversationId, latency_ms: latencyMs, ...(result.error ? { error: result.error } : {}) },
    });
  });
  ctx.metrics.turn(result.exitReason, result.iterations.length, latencyMs / 1000);
  return completion;
}

/** Stores the interaction in memory without blocking the answer; failures are only logged. */
function rememberTurn(ctx: AppContext, scope: { tenantId: string; capsuleId: string }, turn: { turnId: string; question: string; answer: string; score: number | null }) {
  if (turn.answer.trim() === '') return;
  void withTimeout(
    ctx.brain.remember(scope, {
      key: `turn:${turn.turnId}`,
      content: `Q: ${turn.question}\nA: ${turn.answer}`,
      importance: turn.score ?? 0.5,
      tags: ['turn'],
    }),
    ctx.settings.brainTimeoutMs,
    'remember',
  ).catch((cause) => ctx.logger.warn({ err: cause, turn_id: turn.turnId }, 'storing the turn in memory failed'));
}

/** Model label for metrics: provider and model name, without file paths (bounded cardinality). */
export function metricModelLabel(model: string): string {
  const [provider, ...rest] = model.split(':');
  const name = rest.join(':');
  return `${provider}:${name.split('/').pop() ?? name}`;
}

/**
 * Marks turns left `running` by a process that died as `interrupted` (their committed iterations and
 * events stay). `olderThanMs` protects turns other live processes are still running.
 */
export async function recoverInterruptedTurns(ctx: Pick<AppContext, 'database' | 'clock'>, { olderThanMs }: { olderThanMs: number }): Promise<number> {
  const cutoff = new Date(ctx.clock.now() - olderThanMs);
  const rows = await ctx.database.db
    .update(tables.turns)
    .set({
      status: 'interrupted',
      exitReason: 'error',
      iterations: sql`(select count(*)::int from ${tables.rlmIterations} where ${tables.rlmIterations.turnId} = ${tables.turns.id})`,
      error: { code: 'INTERRUPTED', message: 'the process running this turn stopped', iteration: -1 },
      completedAt: new Date(ctx.clock.now()),
    })
    .where(and(eq(tables.turns.status, 'running'), lt(tables.turns.startedAt, cutoff)))
    .returning({ id: tables.turns.id });
  return rows.length;
}
