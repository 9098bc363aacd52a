import type { JsonSchema } from '../shared/json.js';

/** One message of the prompt sent to a model. */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; toolName: string; content: string };

/** A tool the model may call (native tool calling). */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  inputSchema: JsonSchema;
  /**
   * Example requests with the arguments of the call that answers them. Providers may show them to the
   * model; the local adapter's tool decision step uses them as few-shot examples.
   */
  examples?: { request: string; args: Record<string, unknown> }[];
}

/** A tool call the model made. `args` is the parsed arguments object (not yet validated). */
export interface ToolCall {
  callId: string;
  name: string;
  args: unknown;
}

/** Summary of the token log-probabilities of one completion, when the provider gives them. */
export interface LogprobSummary {
  /** Number of tokens with a log-probability. */
  count: number;
  /** Sum of the log-probabilities (natural log). */
  sum: number;
}

/**
 * The raw recorded output of one model call: everything replay needs to re-run the iteration
 * without the model. Stored as `rlm_iterations.llm_output`.
 */
export interface LlmOutput {
  /** Full text of the completion. */
  text: string;
  toolCalls: ToolCall[];
  /** Provider finish reason: `stop`, `length`, `tool-calls`, `error`, `cancelled`, … */
  finishReason: string;
  logprobs: LogprobSummary | null;
  /** The model's verbalised self-assessment in [0,1] when given (scripted `confidence`, or parsed from text). */
  verbalConfidence: number | null;
  /** The model declared its answer final (scripted `final`, or parsed from text). */
  final: boolean;
  usage: { promptTokens: number; completionTokens: number };
  /** Model id that produced the output (`local:smollm2-135m-instruct-q4_1`, `openai:gpt-4o-mini`, …). */
  model: string;
}

/** What a streamed model call yields, in order: deltas and tool calls, then exactly one `finish`. */
export type ModelStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call'; call: ToolCall }
  | { type: 'finish'; output: LlmOutput };

export interface ModelCallOptions {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  /** Sampling seed (stable hash of the turn id). Providers that accept a seed use it. */
  seed?: number;
  temperature?: number;
  maxOutputTokens?: number;
  /** Extra texts that end the completion when generated (the model's end-of-turn token always does). */
  stopSequences?: string[];
  /** Aborting cancels the call; the stream then throws an AbortError. */
  signal?: AbortSignal;
  /**
   * Which turn/iteration this call belongs to. The scripted provider uses `userMessage` to pick its
   * script entry and `iteration` to pick the scripted iteration; the local provider's tool decision
   * step reads the question from `userMessage`. Remote providers ignore it.
   */
  turn?: { userMessage: string; iteration: number };
}

/** What a model can do; used by the model router. */
export interface ModelCapabilities {
  tools: boolean;
  logprobs: boolean;
  seed: boolean;
  streaming: boolean;
}

/**
 * A chat model behind one interface. Adapters: `local:` (node-llama-cpp), `openai:`, `anthropic:`,
 * `openai-compatible:` (AI SDK), `scripted:` (deterministic, for tests, benchmarks and replay).
 *
 * Failures throw `SomaError` with code `LLM_TIMEOUT` / `LLM_RATE_LIMITED` / `LLM_SERVER_ERROR` (retryable)
 * or `LLM_FAILED` (not retryable). Retries with backoff are the adapter's job for real providers.
 */
export interface ChatModel {
  /** Full model id including the provider prefix, e.g. `local:smollm2-135m-instruct-q4_1`. */
  readonly id: string;
  readonly capabilities: ModelCapabilities;
  /** Streams one completion. The last part is always `finish` unless the call throws. */
  stream(options: ModelCallOptions): AsyncIterable<ModelStreamPart>;
  /** Number of tokens of `text` by this model's tokenizer (or a maintained tokenizer for remote models). */
  countTokens(text: string): number;
  /** Loads weights or checks the connection; idempotent. */
  warmUp?(): Promise<void>;
  /** Frees native resources. */
  close?(): Promise<void>;
}
