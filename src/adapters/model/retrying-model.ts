import type { ChatModel, ModelCallOptions, ModelStreamPart } from '../../ports/chat-model.js';
import { retryUntilFirstPart, type RetryOptions } from './retry.js';

/** The one retry policy of every model: attempts after the first, backoff, and a hook per retry. */
export type RetryPolicy = Omit<RetryOptions, 'signal'>;

/**
 * `model` behind the retry policy (SPEC §11: LLM errors ⇒ retries with backoff): a retryable failure
 * (`LLM_TIMEOUT`, `LLM_RATE_LIMITED`, `LLM_SERVER_ERROR`) before the first streamed part starts the call
 * again after an exponential backoff; once a part has streamed a failure is final, so no text is ever
 * duplicated. Errors come out as `SomaError`s, aborts as the AbortError at once. The model factory wraps
 * every provider with it — scripted, local and remote alike.
 */
export function withRetries(model: ChatModel, policy: RetryPolicy = {}): ChatModel {
  return {
    id: model.id,
    capabilities: model.capabilities,
    countTokens: (text) => model.countTokens(text),
    stream(options: ModelCallOptions): AsyncIterable<ModelStreamPart> {
      return retryUntilFirstPart(() => model.stream(options)[Symbol.asyncIterator](), { ...policy, signal: options.signal });
    },
    ...(model.warmUp ? { warmUp: () => model.warmUp!() } : {}),
    ...(model.close ? { close: () => model.close!() } : {}),
    // The model cache retires what it evicts: the wrapper passes that on to the model it wraps.
    ...('retire' in model && typeof (model as { retire?: unknown }).retire === 'function' ? { retire: () => (model as unknown as { retire: () => void }).retire() } : {}),
  };
}
