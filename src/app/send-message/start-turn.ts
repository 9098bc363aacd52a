import type { HistoryMessage } from '../../core/context/index.js';
import type { LearnedState } from '../../ports/learning.js';
import { sha256Hex, stableSeed } from '../../shared/hash.js';
import type { AppContext, Caller } from '../context.js';
import { recordEvent } from '../events.js';
import type { TurnSettings } from '../turn/index.js';
import { TurnEventLog } from '../turn-event-log.js';
import type { PreparedTurn } from './prepare-turn.js';
import type { OnTurnEvent, TurnEvent } from './turn-events.js';

/** How many earlier messages of the conversation a turn sees. */
const HISTORY_MESSAGES = 20;

/** A turn written as `running`, with what its loop starts from. */
export interface StartedTurn {
  turnId: string;
  seed: number;
  startedAtMs: number;
  settings: TurnSettings;
  startState: LearnedState;
  history: HistoryMessage[];
  /** The turn's SSE events (`turn.started` stored with the turn, id 1). */
  log: TurnEventLog;
}

/**
 * Starts a prepared turn: fixes its id, seed, settings (degraded mode, memory lane) and start state,
 * reads the conversation's recent history, then writes the turn (with its `turn.started` SSE event),
 * the user message, the message count and `chat.turn_started` in one transaction.
 */
export async function startTurn(ctx: AppContext, prepared: PreparedTurn, caller: Caller, onEvent?: OnTurnEvent): Promise<StartedTurn> {
  const { text, conversationId, capsule, split, model, limits } = prepared;
  const turnId = ctx.ids.uuid();
  const seed = stableSeed(turnId);
  const startedAtMs = ctx.clock.now();
  const startState: LearnedState = { weights: capsule.learnedWeights, neuromodulators: capsule.neuromodulatorState, rewardBaseline: capsule.rewardBaseline };
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
    degraded: ctx.health.degraded(),
    memoryOff: ctx.health.state('brain') === 'unhealthy',
  };
  const recent = await ctx.store.messages.recentHistory(conversationId, HISTORY_MESSAGES);
  const history = recent.map((m) => ({ role: m.role === 'assistant' ? ('assistant' as const) : ('user' as const), content: m.content }));

  const userMessageId = ctx.ids.uuid();
  const inputHash = sha256Hex(text);
  const log = new TurnEventLog(1, onEvent && ((e) => onEvent({ id: e.id, event: e.event, data: e.data } as TurnEvent & { id: number })));
  log.stage([['turn.started', { turn_id: turnId }]]);
  await ctx.store.transaction(async (tx) => {
    await tx.turns.insert({
      id: turnId,
      conversationId,
      capsuleId: capsule.id,
      tenantId: caller.tenantId,
      userId: caller.userId,
      inputHash,
      seed,
      weightsStart: startState.weights,
      neuromodulatorsStart: startState.neuromodulators,
      settings: { ...settings, model: model.id, reward_baseline_start: startState.rewardBaseline, learning_config: split.overrides, single_shot: limits.singleShot },
      startedAt: new Date(startedAtMs),
      streamEvents: log.pendingBatch()!,
    });
    await tx.messages.insert({ id: userMessageId, conversationId, turnId, role: 'user', content: text, createdAt: new Date(startedAtMs) });
    await tx.conversations.countMessages(conversationId, 1);
    await recordEvent(tx, ctx, {
      eventType: 'chat.turn_started',
      tenantId: caller.tenantId,
      turnId,
      capsuleId: capsule.id,
      payload: { conversation_id: conversationId, message_id: userMessageId, user_id: caller.userId, input_hash: inputHash, seed, model: model.id },
    });
  });
  log.release();
  return { turnId, seed, startedAtMs, settings, startState, history, log };
}
