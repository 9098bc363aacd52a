import { textSimilarity } from './text-similarity.js';

/** Why a draft cannot count as an answer, whatever the model thinks of it. */
export type JunkReason = 'empty' | 'truncated' | 'echo';

/** How similar a draft may be to the user's message or the system prompt before it counts as an echo. */
export const ECHO_SIMILARITY = 0.8;

/**
 * A draft that is no answer: empty, cut off by the output limit (`finish_reason` `length`), or mostly a
 * repeat of the user's message or the system prompt (3-gram Dice similarity ≥ 0.8). Such a draft earns
 * no quality in the reward (its `answer_score` is 0) and is never remembered. Undefined for a real draft.
 */
export function junkDraft({
  text,
  finishReason,
  userMessage,
  systemPrompt,
  toolCalls = 0,
}: {
  text: string;
  finishReason: string;
  userMessage: string;
  systemPrompt: string;
  /** A draft that calls tools is a step towards the answer, not an answer: it is never junk. */
  toolCalls?: number;
}): JunkReason | undefined {
  if (toolCalls > 0) return undefined;
  if (text.trim() === '') return 'empty';
  if (finishReason === 'length') return 'truncated';
  if (textSimilarity(text, userMessage) >= ECHO_SIMILARITY) return 'echo';
  if (systemPrompt.trim() !== '' && textSimilarity(text, systemPrompt) >= ECHO_SIMILARITY) return 'echo';
  return undefined;
}
