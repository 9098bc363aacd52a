import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible, type MetadataExtractor } from '@ai-sdk/openai-compatible';
import { jsonSchema, streamText, tool, type LanguageModel, type ToolSet } from 'ai';
import type {
  ChatModel,
  LlmOutput,
  LogprobSummary,
  ModelCallOptions,
  ModelCapabilities,
  ModelStreamPart,
  ToolCall,
  ToolDefinition,
} from '../../../ports/chat-model.js';
import { SomaError } from '../../../shared/errors.js';
import { abortErrorOf, retryUntilFirstPart, type RetryOptions } from '../retry.js';
import { createMarkerFilter, parseSelfAssessment } from '../self-assessment.js';
import { countTiktokens, encodingForModelId } from '../tiktoken-counter.js';
import { toModelMessages } from './to-model-messages.js';

export type AiSdkProvider = 'openai' | 'anthropic' | 'openai-compatible';

export interface AiSdkModelOptions {
  /** `openai:<model>`, `anthropic:<model>` or `openai-compatible:<model>`. */
  spec: string;
  /** Endpoint base URL (required for `openai-compatible:`, e.g. `http://localhost:11434/v1`). */
  baseURL?: string;
  /** API key; the OpenAI and Anthropic providers fall back to `OPENAI_API_KEY` / `ANTHROPIC_API_KEY`. */
  apiKey?: string;
  /** Ask for token log-probabilities where the provider supports them (OpenAI chat, OpenAI-compatible). */
  logprobs?: boolean;
  /** Whole-call timeout; a call that takes longer fails with the retryable `LLM_TIMEOUT`. */
  timeoutMs?: number;
  /** Backoff for retryable failures before the first streamed part. */
  retry?: Omit<RetryOptions, 'signal'>;
}

/** The provider-options key (and metadata key) of the OpenAI-compatible provider. */
const compatibleName = 'openaiCompatible';

interface TokenLogprob {
  token?: string;
  logprob: number;
}

/** Collects `choices[0].logprobs.content[]` from OpenAI-compatible stream chunks. */
const logprobExtractor: MetadataExtractor = {
  async extractMetadata({ parsedBody }) {
    const logprobs = readChoiceLogprobs(parsedBody);
    return logprobs.length > 0 ? { [compatibleName]: { logprobs: logprobs as never } } : undefined;
  },
  createStreamExtractor() {
    const collected: TokenLogprob[] = [];
    return {
      processChunk(parsedChunk: unknown) {
        collected.push(...readChoiceLogprobs(parsedChunk));
      },
      buildMetadata() {
        return collected.length > 0 ? { [compatibleName]: { logprobs: collected as never } } : undefined;
      },
    };
  },
};

function readChoiceLogprobs(body: unknown): TokenLogprob[] {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return [];
  const content = (choices[0] as { logprobs?: { content?: unknown } } | undefined)?.logprobs?.content;
  if (!Array.isArray(content)) return [];
  return content.filter((entry): entry is TokenLogprob => typeof (entry as TokenLogprob | null)?.logprob === 'number');
}

/** Sums token log-probabilities as the provider reported them; null when there are none. */
export function summarizeLogprobs(value: unknown): LogprobSummary | null {
  if (!Array.isArray(value)) return null;
  let count = 0;
  let sum = 0;
  for (const entry of value as unknown[]) {
    const logprob = (entry as TokenLogprob | null)?.logprob;
    if (typeof logprob === 'number' && Number.isFinite(logprob)) {
      count++;
      sum += logprob;
    }
  }
  return count > 0 ? { count, sum } : null;
}

function parseSpec(spec: string): { provider: AiSdkProvider; modelId: string } {
  const separator = spec.indexOf(':');
  const provider = spec.slice(0, separator);
  const modelId = spec.slice(separator + 1);
  if (separator <= 0 || modelId.length === 0 || !['openai', 'anthropic', 'openai-compatible'].includes(provider)) {
    throw new SomaError('CONFIG_INVALID', `model "${spec}" is not openai:<model>, anthropic:<model> or openai-compatible:<model>`);
  }
  return { provider: provider as AiSdkProvider, modelId };
}

function toToolSet(definitions: ToolDefinition[] | undefined): ToolSet | undefined {
  if (!definitions || definitions.length === 0) return undefined;
  // No `execute`: the SDK returns the calls and Soma's loop runs the tools.
  return Object.fromEntries(
    definitions.map((definition) => [
      definition.name,
      tool({ description: definition.description, inputSchema: jsonSchema(definition.inputSchema as Parameters<typeof jsonSchema>[0]) }),
    ]),
  );
}

/** A `ChatModel` backed by an AI SDK provider (OpenAI, Anthropic, any OpenAI-compatible server). */
export function createAiSdkModel({
  spec,
  baseURL,
  apiKey,
  logprobs = true,
  timeoutMs = 120_000,
  retry: retryOptions = {},
}: AiSdkModelOptions): ChatModel {
  const { provider, modelId } = parseSpec(spec);
  let model: LanguageModel;
  let providerOptions: Record<string, Record<string, boolean>> | undefined;
  let metadataKey: string | undefined;
  switch (provider) {
    case 'openai':
      // The chat-completions API: it streams token logprobs and accepts a seed.
      model = createOpenAI({ apiKey, baseURL }).chat(modelId);
      if (logprobs) providerOptions = { openai: { logprobs: true } };
      metadataKey = 'openai';
      break;
    case 'anthropic':
      model = createAnthropic({ apiKey, baseURL })(modelId);
      break;
    case 'openai-compatible':
      if (!baseURL) throw new SomaError('CONFIG_INVALID', `model "${spec}" needs a base URL (OPENAI_BASE_URL)`);
      model = createOpenAICompatible({
        name: compatibleName,
        baseURL,
        apiKey,
        includeUsage: true,
        metadataExtractor: logprobs ? logprobExtractor : undefined,
      }).chatModel(modelId);
      if (logprobs) providerOptions = { [compatibleName]: { logprobs: true } };
      metadataKey = compatibleName;
      break;
  }
  const id = `${provider}:${modelId}`;
  const encoding = encodingForModelId(provider, modelId);
  const capabilities: ModelCapabilities = {
    tools: true,
    logprobs: logprobs && provider !== 'anthropic',
    seed: provider !== 'anthropic',
    streaming: true,
  };

  async function* attempt(options: ModelCallOptions): AsyncGenerator<ModelStreamPart> {
    const { messages, tools, seed, temperature, maxOutputTokens, stopSequences, signal } = options;
    const timeout = AbortSignal.timeout(timeoutMs);
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const failure = (error: unknown): unknown => {
      if (signal?.aborted) return abortErrorOf(signal);
      if (timeout.aborted) return new SomaError('LLM_TIMEOUT', `${id} did not finish within ${timeoutMs} ms`, { retryable: true, cause: error });
      return error;
    };
    const result = streamText({
      model,
      messages: toModelMessages(messages),
      tools: toToolSet(tools),
      seed: capabilities.seed ? seed : undefined,
      temperature,
      maxOutputTokens,
      ...(stopSequences && stopSequences.length > 0 ? { stopSequences } : {}),
      abortSignal,
      providerOptions,
      maxRetries: 0,
      onError: () => undefined,
      // Our system messages come from the capsule and the loop, not from end users.
      allowSystemInMessages: true,
    });
    const filter = createMarkerFilter();
    const toolCalls: ToolCall[] = [];
    let rawText = '';
    let finishReason = 'stop';
    let usage = { promptTokens: 0, completionTokens: 0 };
    let tokenLogprobs: unknown;
    try {
      for await (const part of result.fullStream) {
        switch (part.type) {
          case 'text-delta': {
            rawText += part.text;
            const shown = filter.push(part.text);
            if (shown.length > 0) yield { type: 'text-delta', text: shown };
            break;
          }
          case 'tool-call': {
            const call: ToolCall = { callId: part.toolCallId, name: part.toolName, args: part.input };
            toolCalls.push(call);
            yield { type: 'tool-call', call };
            break;
          }
          case 'finish-step':
            if (metadataKey) tokenLogprobs = part.providerMetadata?.[metadataKey]?.logprobs;
            break;
          case 'finish':
            finishReason = part.finishReason;
            usage = { promptTokens: part.totalUsage.inputTokens ?? 0, completionTokens: part.totalUsage.outputTokens ?? 0 };
            break;
          case 'error':
            throw part.error;
          case 'abort':
            throw abortErrorOf(signal);
          default:
            break;
        }
      }
    } catch (error) {
      throw failure(error);
    }
    const rest = filter.flush();
    if (rest.length > 0) yield { type: 'text-delta', text: rest };
    const assessment = parseSelfAssessment(rawText);
    const output: LlmOutput = {
      text: assessment.text,
      toolCalls,
      finishReason,
      logprobs: summarizeLogprobs(tokenLogprobs),
      verbalConfidence: assessment.confidence,
      final: assessment.final,
      usage,
      model: id,
    };
    yield { type: 'finish', output };
  }

  return {
    id,
    capabilities,
    stream(options: ModelCallOptions): AsyncIterable<ModelStreamPart> {
      return retryUntilFirstPart(() => attempt(options), { ...retryOptions, signal: options.signal });
    },
    countTokens(text: string): number {
      return countTiktokens(text, encoding);
    },
  };
}
