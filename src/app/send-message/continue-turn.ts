import type { StoredIteration, TurnRecord } from '../../ports/store.js';
import type { LearnedState, Weights } from '../../ports/learning.js';
import type { AppContext } from '../context.js';
import { capabilityConfigs } from '../capsules/index.js';
import { TurnEventLog } from '../turn-event-log.js';
import type { IterationDecision } from '../../core/turn/index.js';
import type { IterationMetadata, IterationRecord, TurnSettings } from '../turn/index.js';
import { explorationWeights, flippedExplorationWeights, resolveLearningConfig } from '../../core/learning/index.js';
import { createAnswerScorer } from './answer-scorer.js';
import { closingDraftOfRecord, finishTurnDurably } from './finish-turn.js';
import { launchTurn, type TurnRun } from './run-turn.js';
import { HISTORY_MESSAGES } from './prepare-turn.js';
import type { TurnRunOutcome } from './turn-events.js';

/** A stored iteration as the loop recorded it. */
export function toIterationRecord(row: StoredIteration): IterationRecord {
  return {
    iteration: row.iterationNumber,
    content: row.content,
    llmOutput: row.llmOutput,
    model: row.model,
    confidence: row.confidence,
    convergenceScore: row.convergenceScore,
    exitReason: row.exitReason as IterationDecision,
    weightsBefore: row.weightsBefore,
    weightsAfter: row.weightsAfter,
    weightDeltas: row.weightDeltas,
    neuromodulatorsBefore: row.neuromodulatorsBefore,
    neuromodulatorsAfter: row.neuromodulatorsAfter,
    toolCalls: row.toolCalls,
    toolResults: row.toolResults,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    latencyMs: row.latencyMs,
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    metadata: row.metadata as IterationMetadata,
  };
}

/**
 * Runs again, in this process, a turn this process just claimed (its row is `running` again: after
 * the last decision on its approvals, or `POST /v1/turns/:id/resume`): everything it needs is read
 * back from the database — settings, start state, history, the committed iterations with the
 * memories they used, the approvals — and the loop goes on after its last committed iteration. A
 * turn that cannot run any more (its capsule or model is gone) is closed at once with that error.
 */
export async function continueTurn(ctx: AppContext, turn: TurnRecord, { afterPause }: { afterPause: boolean }): Promise<TurnRunOutcome | undefined> {
  const [rows, approvals, messages, capsule, firstId] = await Promise.all([
    ctx.store.iterations.listByTurn(turn.id),
    ctx.store.approvals.listByTurn(turn.id),
    ctx.store.messages.listByTurn(turn.id),
    ctx.store.capsules.find(turn.tenantId, turn.capsuleId),
    ctx.store.streamEvents.lastId(turn.id).then((last) => last + 1),
  ]);
  const records = rows.map(toIterationRecord);
  const owner = { turnId: turn.id, conversationId: turn.conversationId, tenantId: turn.tenantId, capsuleId: turn.capsuleId };
  const log = new TurnEventLog(firstId);
  const recorded = turn.settings as unknown as TurnSettings & { model?: string; reward_baseline_start?: number; learning_config?: Record<string, unknown>; lane_weights?: Weights };
  const modelId = recorded.model ?? records[0]?.model ?? ctx.settings.defaultModel;
  let model;
  try {
    model = ctx.models.get(modelId);
  } catch (cause) {
    ctx.logger.warn({ err: cause, turn_id: turn.id }, 'the turn cannot run again: its model is not available');
  }
  const question = messages.find((m) => m.role === 'user');
  if (!capsule || !model || !question) {
    log.emit('error', { code: capsule ? 'NO_MODEL_AVAILABLE' : 'CAPSULE_NOT_FOUND', message: `the turn cannot run again: its ${capsule ? 'model' : 'capsule'} is not available` });
    const iterations = records.map(closingDraftOfRecord);
    const error = { code: capsule ? 'NO_MODEL_AVAILABLE' : 'CAPSULE_NOT_FOUND', message: 'the turn cannot run again', iteration: records.length };
    await finishTurnDurably(
      ctx,
      { owner, model: modelId, startedAtMs: turn.startedAt.getTime(), exitReason: 'error', error, iterations, toolsUsed: [], resumes: turn.resumes },
      (completion) => {
        log.stage([['turn.completed', completion]]);
        return log.pendingBatch();
      },
      { giveUp: () => ctx.live.stopped, onRetry: () => log.unstage() },
    ).finally(() => log.end('closed'));
    return undefined;
  }
  const history = (await ctx.store.messages.recentHistory(turn.conversationId, HISTORY_MESSAGES, question.createdAt)).map((m) => ({ role: m.role === 'assistant' ? ('assistant' as const) : ('user' as const), content: m.content }));
  const startState: LearnedState = { weights: turn.weightsStart, neuromodulators: turn.neuromodulatorsStart, rewardBaseline: recorded.reward_baseline_start ?? capsule.rewardBaseline };
  const memories = records[0]?.metadata.memories;
  // The learning constants and the lane as the turn started (recorded on the turn by startTurn).
  const overrides = recorded.learning_config;
  const learning = resolveLearningConfig(overrides && Object.keys(overrides).length > 0 ? overrides : undefined);
  const lane = {
    weights: recorded.lane_weights ?? explorationWeights({ weights: turn.weightsStart, seed: turn.seed, config: learning }).weights,
    flipped: flippedExplorationWeights({ weights: turn.weightsStart, seed: turn.seed, config: learning }),
  };
  const scorer = createAnswerScorer(ctx, learning.scorer);
  const run: TurnRun = {
    owner,
    userId: turn.userId,
    capsule,
    capabilities: capabilityConfigs(capsule.capabilities).filter((c) => c.enabled),
    model,
    text: question.content,
    seed: turn.seed,
    settings: recorded,
    startState,
    history,
    startedAtMs: turn.startedAt.getTime(),
    log,
    lane,
    learning,
    ...(scorer.ok && scorer.value ? { scorer: scorer.value } : {}),
    resumes: turn.resumes,
    resume: { records, approvals, ...(memories ? { memories } : {}), ...(afterPause && records.length > 0 ? { uncounted: records[records.length - 1] } : {}) },
  };
  return launchTurn(ctx, run);
}
