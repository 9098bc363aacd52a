import type { ChatMessage, ChatModel, LlmOutput, ModelStreamPart, ToolDefinition } from '../../ports/chat-model.js';
import { cleanJson, cleanText } from '../../shared/text-hygiene.js';
import { traceModelCall } from './tracing.js';
import type { TurnSettings } from './types.js';

/** The recorded output of one model call, with how many characters PostgreSQL could not store were replaced (U+FFFD). */
export interface DraftStageResult {
  output: LlmOutput;
  replacedCharacters: number;
}

/** One streamed model call of an iteration: deltas go to `onDelta`, the recorded output comes back. */
export async function draftStage({
  model,
  messages,
  tools,
  settings,
  seed,
  iteration,
  userMessage,
  signal,
  onDelta,
}: {
  model: ChatModel;
  messages: ChatMessage[];
  tools: ToolDefinition[];
  settings: TurnSettings;
  seed: number;
  iteration: number;
  userMessage: string;
  signal: AbortSignal;
  onDelta: (text: string) => void;
}): Promise<DraftStageResult> {
  const { temperature, maxOutputTokens } = settings;
  const output = await traceModelCall({ model: model.id, iteration, seed, temperature, maxOutputTokens }, () =>
    collectOutput(model.stream({ messages, tools, seed, temperature, maxOutputTokens, signal, turn: { userMessage, iteration } }), onDelta),
  );
  const cleaned = cleanJson(output);
  return { output: cleaned.value, replacedCharacters: cleaned.replaced };
}

/**
 * Streams the deltas (cleaned of characters PostgreSQL cannot store; a high surrogate at the end of a
 * chunk waits for the next one, so a pair split across chunks stays whole) and returns the output.
 */
async function collectOutput(stream: AsyncIterable<ModelStreamPart>, onDelta: (text: string) => void): Promise<LlmOutput> {
  let carry = '';
  const emit = (text: string) => {
    if (text !== '') onDelta(cleanText(text).text);
  };
  for await (const part of stream) {
    if (part.type === 'text-delta') {
      let text = carry + part.text;
      carry = '';
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        carry = text.slice(-1);
        text = text.slice(0, -1);
      }
      emit(text);
    } else if (part.type === 'finish') {
      emit(carry);
      return part.output;
    }
  }
  throw new Error('the model stream ended without a finish part');
}
