import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ChatModel, LlmOutput, ModelCallOptions, ModelStreamPart, ToolCall } from '../../../ports/chat-model.js';
import { SomaError } from '../../../shared/errors.js';
import { mulberry32 } from '../../../shared/mulberry32.js';
import { countTiktokens } from '../tiktoken-counter.js';

/** o200k token counts (cached by the counter: prompts repeat their messages every iteration). */
const countTiktokenTokens = (text: string): number => countTiktokens(text, 'o200k_base');

const scriptedIteration = z.object({
  text: z.string().default(''),
  tool_calls: z.array(z.object({ name: z.string().min(1), args: z.unknown().default({}) })).default([]),
  logprobs: z.array(z.number().max(0)).optional(),
  confidence: z.number().min(0).max(1).optional(),
  final: z.boolean().default(false),
  latency_ms: z.number().int().min(0).default(0),
  tokens_per_s: z.number().min(0).default(0),
  error: z.enum(['timeout', 'rate_limit', 'server_error']).optional(),
  /** `length`: the draft was cut off by the output limit (tests of SPEC §13.3). */
  finish_reason: z.enum(['stop', 'length']).optional(),
});

const faultKind = z.enum(['timeout', 'rate_limit', 'server_error', 'malformed_tool_call']);

/**
 * Faults injected into a share of all calls (a flaky provider): each call fails with probability
 * `rate`, as one of `kinds` — the provider errors, or `malformed_tool_call` (the call streams its text
 * plus a call of `tool` whose arguments are not an object). Drawn from a PRNG seeded with `seed`, one
 * draw per call in call order, so a run is reproducible.
 */
const scriptFaults = z.object({
  rate: z.number().min(0).max(1),
  kinds: z.array(faultKind).min(1).default(['timeout', 'rate_limit', 'server_error']),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  tool: z.string().min(1).default('calculator'),
});

/** The scripted-model file format of SPEC §8 (plus `faults`, for fault-injection tests). */
export const scriptSchema = z.object({
  turns: z
    .array(z.object({ match: z.string().optional(), iterations: z.array(scriptedIteration).min(1) }))
    .min(1),
  faults: scriptFaults.optional(),
});

export type Script = z.input<typeof scriptSchema>;
export type ScriptedIteration = z.input<typeof scriptedIteration>;

const errorCodes = { timeout: 'LLM_TIMEOUT', rate_limit: 'LLM_RATE_LIMITED', server_error: 'LLM_SERVER_ERROR' } as const;

/**
 * Reads and validates a script file. Whatever is wrong (no such file, no permission, not JSON, not a
 * script) the error is the same and quotes nothing of the file: a scripted spec may come from a
 * capsule, and its error reaches the tenant (SPEC §13.1).
 */
export function loadScript(file: string): z.infer<typeof scriptSchema> {
  let parsed: ReturnType<typeof scriptSchema.safeParse> | undefined;
  try {
    parsed = scriptSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new SomaError('NO_MODEL_AVAILABLE', `scripted model ${file}: the file is missing, unreadable or not a valid script`);
  return parsed.data;
}

export interface ScriptedModelOptions {
  /** A parsed script, or the path of a script file. */
  script: Script | string;
  /** Id suffix; default `scripted:<file>`. */
  id?: string;
  /** Waits used for latency and pacing (replaceable in tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * The deterministic provider of SPEC §8: turn = first entry whose `match` is in the user message,
 * iteration k plays `iterations[k]` (the last repeats). Text is streamed in word chunks, paced by
 * `tokens_per_s` when set.
 */
export function createScriptedModel({ script, id, sleep = abortableSleep }: ScriptedModelOptions): ChatModel {
  const parsed = typeof script === 'string' ? loadScript(script) : scriptSchema.parse(script);
  const modelId = id ?? `scripted:${typeof script === 'string' ? script : 'inline'}`;
  const nextFault = faultDraws(parsed.faults);

  return {
    id: modelId,
    capabilities: { tools: true, logprobs: true, seed: true, streaming: true },
    countTokens: countTiktokenTokens,
    async *stream(options: ModelCallOptions): AsyncIterable<ModelStreamPart> {
      const userMessage = options.turn?.userMessage ?? lastUserMessage(options);
      const iteration = options.turn?.iteration ?? 0;
      const entry = parsed.turns.find((t) => t.match === undefined || userMessage.includes(t.match));
      if (!entry) throw new SomaError('LLM_FAILED', `the scripted model has no turn matching the message "${userMessage.slice(0, 80)}"`);
      const step = entry.iterations[Math.min(iteration, entry.iterations.length - 1)]!;
      options.signal?.throwIfAborted();
      if (step.latency_ms > 0) await sleep(step.latency_ms, options.signal);
      if (step.error) {
        throw new SomaError(errorCodes[step.error], `scripted provider error: ${step.error}`, { retryable: true });
      }
      const fault = nextFault();
      if (fault && fault !== 'malformed_tool_call') throw new SomaError(errorCodes[fault], `scripted provider fault: ${fault}`, { retryable: true });
      const chunks = step.text.match(/\S+\s*|\s+/g) ?? [];
      const pause = step.tokens_per_s > 0 ? 1000 / step.tokens_per_s : 0;
      for (const chunk of chunks) {
        options.signal?.throwIfAborted();
        if (pause > 0) await sleep(pause, options.signal);
        yield { type: 'text-delta', text: chunk };
      }
      const toolCalls: ToolCall[] = step.tool_calls.map((call, index) => ({
        callId: `call_${iteration}_${index}`,
        name: call.name,
        args: call.args,
      }));
      if (fault === 'malformed_tool_call') toolCalls.push({ callId: `call_${iteration}_malformed`, name: parsed.faults!.tool, args: '{"expression": ' });
      for (const call of toolCalls) yield { type: 'tool-call', call };
      const promptTokens = options.messages.reduce((sum, m) => sum + countTiktokenTokens(m.content), 0);
      const output: LlmOutput = {
        text: step.text,
        toolCalls,
        finishReason: toolCalls.length > 0 ? 'tool-calls' : (step.finish_reason ?? 'stop'),
        logprobs: step.logprobs && step.logprobs.length > 0 ? { count: step.logprobs.length, sum: sum(step.logprobs) } : null,
        verbalConfidence: step.confidence ?? null,
        final: step.final,
        usage: { promptTokens, completionTokens: countTiktokenTokens(step.text) },
        model: modelId,
      };
      yield { type: 'finish', output };
    },
  };
}

/** One draw per call: the fault of that call, or undefined (mulberry32, seeded by the script). */
function faultDraws(faults: z.infer<typeof scriptFaults> | undefined): () => z.infer<typeof faultKind> | undefined {
  if (!faults || faults.rate === 0) return () => undefined;
  const random = mulberry32(faults.seed);
  return () => {
    const fails = random() < faults.rate;
    const kind = faults.kinds[Math.floor(random() * faults.kinds.length)]!;
    return fails ? kind : undefined;
  };
}

function lastUserMessage(options: ModelCallOptions): string {
  for (let i = options.messages.length - 1; i >= 0; i--) {
    const m = options.messages[i]!;
    if (m.role === 'user') return m.content;
  }
  return '';
}

function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
