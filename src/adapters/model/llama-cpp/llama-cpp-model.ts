import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import {
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  type ChatHistoryItem,
  type ChatModelFunctions,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import type {
  ChatMessage,
  ChatModel,
  LlmOutput,
  ModelCallOptions,
  ModelCapabilities,
  ModelStreamPart,
  ToolCall,
  ToolDefinition,
} from '../../../ports/chat-model.js';
import { SomaError, isSomaError } from '../../../shared/errors.js';
import { countTiktokens } from '../tiktoken-counter.js';
import { abortErrorOf, isAbortError } from '../retry.js';
import { createMarkerFilter, parseSelfAssessment } from '../self-assessment.js';
import { toFunctionParams } from './to-function-params.js';
import { toLlamaHistory } from './to-llama-history.js';
import { couldBeGrounded, decisionPrompt, decisionSchema, isGrounded, parseDecision } from './tool-decision.js';

export interface LlamaCppModelOptions {
  /** Path of the GGUF file. */
  modelPath: string;
  /** Context window in tokens (default 8192). */
  contextSize?: number;
  /** Offload to a GPU. The prebuilt CPU binary is used when false (the default). */
  gpu?: boolean;
  /**
   * CPU threads for evaluation. Default: all cores but one. llama.cpp threads spin while they wait
   * for each other, so using every core of a small, busy machine is much slower than leaving one free.
   */
  threads?: number;
  /** Model id without the `local:` prefix (default: the file name without `.gguf`). */
  name?: string;
  /**
   * How the model calls tools. `decision` (default): a grammar-constrained JSON decision step before
   * drafting (`tool-decision.ts`), for small models that do not follow a function-calling syntax;
   * `native`: node-llama-cpp's function calling in the model's chat template.
   */
  toolProtocol?: ToolProtocol;
}

export type ToolProtocol = 'decision' | 'native';

/** Context of the decision step: its few-shot prompt and the question fit in it. */
const DECISION_CONTEXT_TOKENS = 2048;
/** Longest decision JSON. */
const DECISION_MAX_TOKENS = 96;

/** What one generation records through the sequence's token evaluation. */
interface GenerationRecorder {
  /** Tokens in the context when generation started (cached prefix + newly evaluated prompt). */
  promptTokens: number | undefined;
  sampledTokens: number;
  logprobCount: number;
  logprobSum: number;
}

interface Runtime {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** The decision step's own small context (its few-shot prefix stays cached), made on first use. */
  decision?: Promise<{ context: LlamaContext; chat: LlamaChat }>;
  /** Decision grammars by tool set. */
  grammars: Map<string, Promise<LlamaGrammar>>;
  threads: number;
  recorder: GenerationRecorder | undefined;
  /** Serialises generations: one context sequence, one generation at a time. */
  queue: Promise<void>;
  users: number;
}

let llamaPromise: Promise<Llama> | undefined;
const runtimes = new Map<string, Promise<Runtime>>();

/** The llama.cpp bindings: the prebuilt binary shipped in the npm package, never built nor downloaded. */
function loadLlama(gpu: boolean): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: gpu ? 'auto' : false,
    build: 'never',
    usePrebuiltBinaries: true,
    progressLogs: false,
    skipDownload: true,
    logLevel: LlamaLogLevel.error,
  });
  return llamaPromise;
}

/**
 * Records the probability of every sampled token. `LlamaChat` generates through
 * `sequence.evaluate()`, which is `evaluateWithMetadata()` without metadata: this replaces it on
 * our own sequence with the same loop that also asks for each token's `confidence` (its
 * probability under the sampling distribution).
 */
function recordTokenProbabilities(runtime: Runtime, sequence: LlamaContextSequence): void {
  async function* evaluate(tokens: Token[], options: Parameters<LlamaContextSequence['evaluate']>[1]): AsyncGenerator<Token, void, Token | Token[] | void> {
    const recorder = runtime.recorder;
    if (recorder && recorder.promptTokens === undefined) recorder.promptTokens = sequence.contextTokens.length + tokens.length;
    const iterator = sequence.evaluateWithMetadata(tokens, { confidence: true }, options);
    let input: Token | Token[] | void = undefined;
    try {
      while (true) {
        const { value, done } = await iterator.next(input);
        if (done) return;
        if (recorder) {
          recorder.sampledTokens++;
          if (value.confidence > 0) {
            recorder.logprobCount++;
            recorder.logprobSum += Math.log(value.confidence);
          }
        }
        input = yield value.token;
      }
    } finally {
      await iterator.return();
    }
  }
  Object.defineProperty(sequence, 'evaluate', { value: evaluate, configurable: true, writable: true });
}

async function createRuntime({ modelPath, contextSize, gpu, threads }: Required<Omit<LlamaCppModelOptions, 'name' | 'toolProtocol'>>): Promise<Runtime> {
  const llama = await loadLlama(gpu);
  const model = await llama.loadModel({ modelPath, gpuLayers: gpu ? 'auto' : 0 });
  const context = await model.createContext({ contextSize: Math.min(contextSize, model.trainContextSize), threads });
  const sequence = context.getSequence();
  const runtime: Runtime = { llama, model, context, sequence, chat: new LlamaChat({ contextSequence: sequence }), grammars: new Map(), threads, recorder: undefined, queue: Promise.resolve(), users: 0 };
  recordTokenProbabilities(runtime, sequence);
  return runtime;
}

function finishReasonOf(stopReason: string): string {
  switch (stopReason) {
    case 'functionCalls':
      return 'tool-calls';
    case 'maxTokens':
      return 'length';
    case 'abort':
      return 'cancelled';
    default:
      return 'stop';
  }
}

/** The text of the last user message. */
function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'user') return message.content;
  }
  return '';
}

/**
 * Whether this is the model's first call on the question: no assistant message follows it. The
 * decision step runs only then — after a tool round the model answers with the results, and a
 * refine step re-drafts without deciding again.
 */
function isFirstCallOn(messages: readonly ChatMessage[], question: string): boolean {
  let index = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'user' && message.content === question) {
      index = i;
      break;
    }
  }
  return index >= 0 && !messages.slice(index + 1).some((m) => m.role === 'assistant' || m.role === 'tool');
}

/** The decision step's context and chat, made once per runtime (about 2k tokens of KV cache). */
function decisionChat(runtime: Runtime): Promise<{ context: LlamaContext; chat: LlamaChat }> {
  runtime.decision ??= (async () => {
    const context = await runtime.model.createContext({ contextSize: Math.min(DECISION_CONTEXT_TOKENS, runtime.model.trainContextSize), threads: runtime.threads });
    const sequence = context.getSequence();
    recordTokenProbabilities(runtime, sequence);
    return { context, chat: new LlamaChat({ contextSequence: sequence }) };
  })();
  return runtime.decision;
}

/**
 * Runs the grammar-constrained decision ({@link decisionPrompt}) at temperature 0 and returns the tool
 * call it makes, if any and if grounded in the question ({@link isGrounded}), with its token usage.
 */
async function decideTool(runtime: Runtime, tools: readonly ToolDefinition[], question: string, signal: AbortSignal): Promise<{ call?: ToolCall; usage: LlmOutput['usage']; logprobs: LlmOutput['logprobs'] }> {
  const { chat } = await decisionChat(runtime);
  const grammarKey = JSON.stringify(tools.map((t) => [t.name, t.inputSchema]));
  let grammar = runtime.grammars.get(grammarKey);
  if (!grammar) {
    grammar = runtime.llama.createGrammarForJsonSchema(decisionSchema(tools) as never) as Promise<LlamaGrammar>;
    runtime.grammars.set(grammarKey, grammar);
    grammar.catch(() => runtime.grammars.delete(grammarKey));
  }
  const prompt = decisionPrompt(tools);
  const history: ChatHistoryItem[] = [{ type: 'system', text: prompt.system }];
  for (const shot of prompt.shots) history.push({ type: 'user', text: shot.user }, { type: 'model', response: [shot.answer] });
  history.push({ type: 'user', text: question });
  const recorder: GenerationRecorder = { promptTokens: undefined, sampledTokens: 0, logprobCount: 0, logprobSum: 0 };
  runtime.recorder = recorder;
  try {
    const result = await chat.generateResponse(history, { grammar: await grammar, temperature: 0, maxTokens: DECISION_MAX_TOKENS, signal, stopOnAbortSignal: true });
    const decision = parseDecision(result.response, tools);
    const usage = { promptTokens: recorder.promptTokens ?? 0, completionTokens: recorder.sampledTokens };
    const logprobs = recorder.logprobCount > 0 ? { count: recorder.logprobCount, sum: recorder.logprobSum } : null;
    if (decision.tool === null || !isGrounded(decision, question, tools.find((t) => t.name === decision.tool))) return { usage, logprobs };
    return { call: { callId: `call_${randomUUID()}`, name: decision.tool, args: decision.args }, usage, logprobs };
  } finally {
    runtime.recorder = undefined;
  }
}

/** Waits for the previous generation on the runtime, then holds it until `release` is called. */
async function acquire(runtime: Runtime, signal: AbortSignal | undefined): Promise<() => void> {
  const previous = runtime.queue;
  let release!: () => void;
  runtime.queue = new Promise<void>((resolve) => {
    release = resolve;
  });
  if (signal) {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(abortErrorOf(signal));
      signal.addEventListener('abort', () => reject(abortErrorOf(signal)), { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([previous, aborted]);
    } catch (error) {
      // Keep the queue order: our turn is released as soon as the previous one ends.
      void previous.then(release);
      throw error;
    }
  } else {
    await previous;
  }
  return release;
}

/** A `ChatModel` running a local GGUF model in process through node-llama-cpp (CPU by default). */
export function createLlamaCppModel({
  modelPath,
  contextSize = 8192,
  gpu = false,
  threads = Math.max(1, availableParallelism() - 1),
  name = basename(modelPath).replace(/\.gguf$/i, ''),
  toolProtocol = 'decision',
}: LlamaCppModelOptions): ChatModel {
  const key = `${modelPath}|${contextSize}|${gpu}|${threads}`;
  let runtime: Runtime | undefined;
  let closed = false;

  async function load(): Promise<Runtime> {
    if (closed) throw new SomaError('LLM_FAILED', `local model ${name} was closed`);
    if (runtime) return runtime;
    let pending = runtimes.get(key);
    if (!pending) {
      pending = createRuntime({ modelPath, contextSize, gpu, threads });
      runtimes.set(key, pending);
      pending.catch(() => runtimes.delete(key));
    }
    let loaded: Runtime;
    try {
      loaded = await pending;
    } catch (error) {
      throw new SomaError('LLM_FAILED', `cannot load local model ${modelPath}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (!runtime) {
      runtime = loaded;
      loaded.users++;
    }
    return loaded;
  }

  const id = `local:${name}`;
  const capabilities: ModelCapabilities = { tools: true, logprobs: true, seed: true, streaming: true };

  async function* stream(options: ModelCallOptions): AsyncGenerator<ModelStreamPart> {
    const { messages, tools = [], seed, temperature, maxOutputTokens, stopSequences, signal } = options;
    if (signal?.aborted) throw abortErrorOf(signal);
    const active = await load();
    const release = await acquire(active, signal);
    // Stops the generation when the caller aborts or stops reading the stream.
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = true;
    let generation: Promise<unknown> | undefined;
    try {
      // The decision step (small models): a tool call, or on to the draft without function syntax.
      let decisionUsage = { promptTokens: 0, completionTokens: 0 };
      if (toolProtocol === 'decision' && tools.length > 0) {
        const question = options.turn?.userMessage ?? lastUserText(messages);
        if (isFirstCallOn(messages, question) && tools.some((tool) => couldBeGrounded(question, tool))) {
          const decided = await decideTool(active, tools, question, stop.signal);
          if (signal?.aborted) throw abortErrorOf(signal);
          decisionUsage = decided.usage;
          if (decided.call) {
            yield { type: 'tool-call', call: decided.call };
            const output: LlmOutput = { text: '', toolCalls: [decided.call], finishReason: 'tool-calls', logprobs: decided.logprobs, verbalConfidence: null, final: false, usage: decided.usage, model: id };
            yield { type: 'finish', output };
            return;
          }
        }
      }

      const pending: ModelStreamPart[] = [];
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      const filter = createMarkerFilter();
      const recorder: GenerationRecorder = { promptTokens: undefined, sampledTokens: 0, logprobCount: 0, logprobSum: 0 };
      active.recorder = recorder;
      const functions: ChatModelFunctions | undefined =
        toolProtocol === 'native' && tools.length > 0
          ? Object.fromEntries(tools.map((tool) => [tool.name, { description: tool.description, params: toFunctionParams(tool.inputSchema) as never }]))
          : undefined;

      // Every draft is evaluated from an empty sequence: reusing the KV cache of whatever ran before
      // (another turn, another configuration) changes the floating-point sums enough to flip near-tied
      // greedy tokens, so the same prompt could give a different draft. The prompt is short; its
      // evaluation costs far less than the answer.
      await active.sequence.clearHistory();
      settled = false;
      const response = active.chat
        .generateResponse(toLlamaHistory(messages), {
          ...(functions ? { functions } : {}),
          ...(stopSequences && stopSequences.length > 0 ? { customStopTriggers: stopSequences } : {}),
          seed,
          temperature,
          maxTokens: maxOutputTokens,
          signal: stop.signal,
          stopOnAbortSignal: true,
          onTextChunk: (text: string) => {
            const shown = filter.push(text);
            if (shown.length > 0) pending.push({ type: 'text-delta', text: shown });
            notify();
          },
        })
        .finally(() => {
          settled = true;
          notify();
        });
      generation = response;
      response.catch(() => undefined);

      while (true) {
        while (pending.length > 0) yield pending.shift() as ModelStreamPart;
        if (settled) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (pending.length > 0 || settled) notify();
        });
      }
      let result: Awaited<typeof response>;
      try {
        result = await response;
      } catch (error) {
        if (signal?.aborted || isAbortError(error)) throw abortErrorOf(signal);
        throw isSomaError(error) ? error : new SomaError('LLM_FAILED', `local model failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (signal?.aborted || result.metadata.stopReason === 'abort') throw abortErrorOf(signal);
      const rest = filter.flush();
      if (rest.length > 0) yield { type: 'text-delta', text: rest };
      const toolCalls: ToolCall[] = (result.functionCalls ?? []).map((call) => ({
        callId: `call_${randomUUID()}`,
        name: call.functionName,
        args: call.params,
      }));
      for (const call of toolCalls) yield { type: 'tool-call', call };
      const assessment = parseSelfAssessment(result.response);
      const output: LlmOutput = {
        text: assessment.text,
        toolCalls,
        finishReason: finishReasonOf(result.metadata.stopReason),
        logprobs: recorder.logprobCount > 0 ? { count: recorder.logprobCount, sum: recorder.logprobSum } : null,
        verbalConfidence: assessment.confidence,
        final: assessment.final,
        usage: { promptTokens: (recorder.promptTokens ?? 0) + decisionUsage.promptTokens, completionTokens: recorder.sampledTokens + decisionUsage.completionTokens },
        model: id,
      };
      yield { type: 'finish', output };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!settled) stop.abort(new DOMException('The stream was closed', 'AbortError'));
      await generation?.catch(() => undefined);
      active.recorder = undefined;
      release();
    }
  }

  return {
    id,
    capabilities,
    stream,
    countTokens(text: string): number {
      if (text.length === 0) return 0;
      // The model's own tokenizer once it is loaded (warmUp); until then a maintained BPE estimate.
      if (runtime) return runtime.model.tokenize(text).length;
      return countTiktokens(text, 'cl100k_base');
    },
    async warmUp(): Promise<void> {
      await load();
    },
    async close(): Promise<void> {
      closed = true;
      const held = runtime;
      runtime = undefined;
      if (!held) return;
      held.users--;
      if (held.users > 0) return;
      runtimes.delete(key);
      await held.queue;
      const decision = await held.decision?.catch(() => undefined);
      await decision?.context.dispose();
      await held.context.dispose();
      await held.model.dispose();
    },
  };
}
