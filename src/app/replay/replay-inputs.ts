import type { HistoryMessage } from '../../core/context/index.js';
import { explorationWeights, flippedExplorationWeights, type LearningConfig } from '../../core/learning/index.js';
import type { Weights } from '../../ports/learning.js';
import type { StoredIteration, Store, TurnRecord } from '../../ports/store.js';
import { tokenCountOf, type IterationMetadata, type RecalledForTurn } from '../turn/index.js';

/** The prompt of a recorded turn, rebuilt from what the turn recorded (SPEC §13.2 "replay checks the prompt"). */
export interface ReplayPrompt {
  systemPrompt: string;
  history: HistoryMessage[];
  userMessage: string;
  memories: RecalledForTurn[];
  lane: { weights: Weights; flipped: Partial<Record<keyof Weights, Weights>> };
  /** Counts tokens as the live tokenizer did for every text the turn counted. */
  countTokens: (text: string) => number;
}

/** What `startTurn` recorded on the turn for replay. */
export interface RecordedTurnSettings {
  model?: string;
  learning_config?: Record<string, unknown>;
  reward_baseline_start?: number;
  system_prompt?: string;
  capsule_version?: number;
  history_message_ids?: string[];
  lane_weights?: Weights;
}

/**
 * Rebuilds a turn's context inputs from its record: the system prompt it ran with, the history messages
 * it saw (by id), its user message, the memories it recalled (with their features) and the lane's
 * weights — recorded, or, counterfactually, recomputed from the start weights, seed and `config`.
 */
export async function replayPrompt(
  store: Pick<Store, 'messages'>,
  { turn, rows, config, counterfactual, countTokens }: { turn: TurnRecord; rows: StoredIteration[]; config: LearningConfig; counterfactual: boolean; countTokens: (text: string) => number },
): Promise<ReplayPrompt> {
  const recorded = turn.settings as RecordedTurnSettings;
  const messages = await store.messages.listByConversation(turn.conversationId);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const history = (recorded.history_message_ids ?? []).flatMap((id) => {
    const message = byId.get(id);
    return message ? [{ role: message.role === 'assistant' ? ('assistant' as const) : ('user' as const), content: message.content }] : [];
  });
  const userMessage = messages.find((m) => m.turnId === turn.id && m.role === 'user')?.content ?? '';
  const first = rows[0]?.metadata as IterationMetadata | undefined;
  const tokens: Record<string, number> = {};
  for (const row of rows) Object.assign(tokens, (row.metadata as IterationMetadata).token_counts ?? {});
  const laneWeights =
    !counterfactual && recorded.lane_weights ? recorded.lane_weights : explorationWeights({ weights: turn.weightsStart, seed: turn.seed, config }).weights;
  return {
    systemPrompt: recorded.system_prompt ?? '',
    history,
    userMessage,
    memories: first?.memories ?? [],
    lane: { weights: laneWeights, flipped: flippedExplorationWeights({ weights: turn.weightsStart, seed: turn.seed, config }) },
    countTokens: tokenCountOf(tokens, countTokens),
  };
}
