import type { HistoryMessage } from '../../core/context/index.js';
import { explorationWeights, flippedExplorationWeights } from '../../core/learning/index.js';
import type { LearnedState, Weights } from '../../ports/learning.js';
import { sha256Hex, stableSeed } from '../../shared/hash.js';
import type { AppContext, Caller } from '../context.js';
import { recordEvent } from '../events.js';
import { knownFull, takeTurnSlot, turnSlot, turnSlotRefused } from '../quotas.js';
import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { TurnSettings } from '../turn/index.js';
import { TurnEventLog } from '../turn-event-log.js';
import type { RecalledForTurn } from '../turn/index.js';
import type { PreparedTurn } from './prepare-turn.js';
import { recallForTurn } from './recall-for-turn.js';
import type { OnTurnEvent, TurnEvent } from './turn-events.js';

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
  /** The weights the turn recalls with (its exploration draw) and, per explored weight, the same with its sign flipped. */
  lane: { weights: Weights; flipped: Partial<Record<keyof Weights, Weights>> };
  /** The turn's recall, started while the turn was written (it reads only memories); absent when memory is off. */
  recalled?: Promise<RecalledForTurn[]>;
  /**
   * The start's write: ok once it committed (`turn.started` released to the streams then, with what
   * the run emitted meanwhile); RATE_LIMITED when the minute's turns were taken (nothing written);
   * rejected on a database fault. Until it is ok, the run may compute but must write or do nothing.
   */
  committed: Promise<Result<void, Failure>>;
}

/**
 * Starts a prepared turn: fixes its id, seed, settings (degraded mode, memory lane) and start state,
 * takes the conversation's recent history read by the preparation, then sends the write of the turn (with its `turn.started` SSE event),
 * the user message, the message count and `chat.turn_started` in one statement (one commit) — which
 * also takes the tenant's turn of this minute: with none left, nothing is written and the turn is
 * refused (RATE_LIMITED). Answers once the write is sent; `committed` tells how it ended.
 */
export async function startTurn(ctx: AppContext, prepared: PreparedTurn, caller: Caller, onEvent?: OnTurnEvent): Promise<Result<StartedTurn, Failure>> {
  const { text, conversationId, capsule, split, model, limits } = prepared;
  const slot = turnSlot(ctx, caller);
  if (slot && knownFull(slot)) return turnSlotRefused(slot);
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
    // Degraded by the shared dependencies or by this turn's own model, never by another capsule's model.
    degraded: ctx.health.degraded({ model: model.id }),
    memoryOff: ctx.health.state('brain') === 'unhealthy',
  };
  const { recent } = prepared;
  const history = recent.map((m) => ({ role: m.role === 'assistant' ? ('assistant' as const) : ('user' as const), content: m.content }));
  const lane = {
    weights: explorationWeights({ weights: startState.weights, seed, config: split.learning }).weights,
    flipped: flippedExplorationWeights({ weights: startState.weights, seed, config: split.learning }),
  };

  const userMessageId = ctx.ids.uuid();
  const inputHash = sha256Hex(text);
  const log = new TurnEventLog(1, onEvent && ((e) => onEvent({ id: e.id, event: e.event, data: e.data } as TurnEvent & { id: number })));
  log.stage([['turn.started', { turn_id: turnId, convergence_threshold: settings.threshold }]]);
  // Only writes: one statement, one round trip. The slot is its only write that must match a row.
  const written = ctx.store.oneStatement(async (tx) => {
    if (slot) await takeTurnSlot(tx, slot);
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
      settings: {
        ...settings,
        model: model.id,
        reward_baseline_start: startState.rewardBaseline,
        learning_config: split.overrides,
        single_shot: limits.singleShot,
        // What replay rebuilds the prompt from (SPEC §13.2): the capsule as it was, the history it saw, the lane's weights.
        capsule_version: capsule.version,
        system_prompt: capsule.systemPrompt,
        history_message_ids: recent.map((m) => m.id),
        lane_weights: lane.weights,
      },
      startedAt: new Date(startedAtMs),
      streamEvents: log.pendingBatch()!,
    });
    const metadata = prepared.truncatedFromTokens === undefined ? {} : { metadata: { truncated_from_tokens: prepared.truncatedFromTokens } };
    await tx.messages.insert({ id: userMessageId, conversationId, turnId, role: 'user', content: text, createdAt: new Date(startedAtMs), ...metadata });
    await tx.conversations.countMessages(conversationId, 1);
    await recordEvent(tx, ctx, {
      eventType: 'chat.turn_started',
      tenantId: caller.tenantId,
      turnId,
      capsuleId: capsule.id,
      payload: { conversation_id: conversationId, message_id: userMessageId, user_id: caller.userId, input_hash: inputHash, seed, model: model.id },
    });
    return true;
    // Starts made while another start's statement runs share the next one (a group commit).
  }, { group: 'turn-start' });
  // Recall needs nothing the write above stores: it runs meanwhile (never rejects; a failed recall is an
  // empty lane) — sent once the write is (the write's round trip is the longer one: it goes first).
  const recalled = settings.memoryOff
    ? undefined
    : new Promise<RecalledForTurn[]>((resolve) =>
        setImmediate(() => resolve(recallForTurn(ctx, { tenantId: caller.tenantId, capsuleId: capsule.id, userId: caller.userId }, { query: text, weights: lane.weights, known: { learningConfig: capsule.learningConfig } }))),
      );
  // What the run emits before the write committed waits behind `turn.started`.
  log.hold();
  const committed = written.then((applied): Result<void, Failure> => {
    if (!applied) return turnSlotRefused(slot!);
    log.release();
    return ok(undefined);
  });
  return ok({ turnId, seed, startedAtMs, settings, startState, history, log, lane, committed, ...(recalled ? { recalled } : {}) });
}
