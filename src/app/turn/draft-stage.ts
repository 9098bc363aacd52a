import type { ChatMessage, ChatModel, LlmOutput, ModelStreamPart, ToolDefinition } from '../../ports/chat-model.js';
import { traceModelCall } from './tracing.js';
import type { TurnSettings } from './types.js';

/** One streamed model call of an iteration: deltas go to `onDelta`, the recorded output comes back. */
export function draftStage({
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
}): Promise<LlmOutput> {
  const { temperature, maxOutputTokens } = settings;
  return traceModelCall({ model: model.id, iteration, seed, temperature, maxOutputTokens }, () =>
    collectOutput(model.stream({ messages, tools, seed, temperature, maxOutputTokens, signal, turn: { userMessage, iteration } }), onDelta),
  );
}

async function collectOutput(stream: AsyncIterable<ModelStreamPart>, onDelta: (text: string) => void): Promise<LlmOutput> {
  for await (const part of stream) {
    if (part.type === 'text-delta') onDelta(part.text);
    else if (part.type === 'finish') return part.output;
  }
  throw new Error('the model stream ended without a finish part');
}
