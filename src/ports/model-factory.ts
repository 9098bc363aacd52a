import type { ChatModel, ModelCapabilities } from './chat-model.js';

/** Creates (and caches) models by spec; knows which specs are usable in this process. */
export interface ModelFactory {
  /** The model for a spec such as `openai:gpt-4o-mini`; throws when it cannot be built. */
  get(spec: string): ChatModel;
  /** Whether the spec can be served here (credentials, files present), and what it can do. */
  describe(spec: string): { available: boolean; capabilities: ModelCapabilities; reason?: string };
}
