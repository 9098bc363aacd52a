import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ChatModel, LlmOutput, ModelCallOptions, ModelStreamPart } from '../../../ports/chat-model.js';
import { SomaError } from '../../../shared/errors.js';
import { stableSeed } from '../../../shared/hash.js';
import { countTiktokens } from '../tiktoken-counter.js';

/** The environment file of `environment:<file>`: the facts the world holds true now, and how the model sounds. */
export const environmentSchema = z.object({
  facts: z.array(z.object({ topic: z.string().min(1), answer: z.string().min(1) })).max(10_000),
  confidence: z
    .object({ correct: z.number().min(0).max(1).default(0.9), wrong: z.number().min(0).max(1).default(0.5), missing: z.number().min(0).max(1).default(0.2) })
    .default({ correct: 0.9, wrong: 0.5, missing: 0.2 }),
  /** A control world: the model's confidence comes from a hash of the question, whatever its context holds. */
  control: z.boolean().default(false),
});

export type Environment = z.infer<typeof environmentSchema>;

/** The marker `buildContext` puts before the memory lane in the system message. */
const MEMORY_HEADER = 'What you remember that may help:\n';

/** How the environment judged one prompt. */
export interface EnvironmentVerdict {
  outcome: 'correct' | 'wrong' | 'missing' | 'unknown-question';
  topic?: string;
}

/**
 * Judges a prompt as the environment model answers it: the question's fact is the one whose topic the
 * user message contains; the model reads the memory lane in order and answers from the first line that
 * mentions the topic — `correct` when that line holds the fact's current answer, `wrong` when it holds
 * something else (a stale or noisy memory), `missing` when no line mentions it.
 */
export function judgePrompt(environment: Environment, messages: ModelCallOptions['messages'], userMessage: string): EnvironmentVerdict & { line?: string } {
  const question = userMessage.toLowerCase();
  const fact = environment.facts.find((f) => question.includes(f.topic.toLowerCase()));
  if (!fact) return { outcome: 'unknown-question' };
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const at = system.indexOf(MEMORY_HEADER);
  // One entry per memory (`- <content>`; a memory may span lines).
  const entries = at < 0 ? [] : system.slice(at + MEMORY_HEADER.length).split(/\n(?=- )/).filter((entry) => entry.startsWith('- '));
  const entry = entries.find((e) => e.toLowerCase().includes(fact.topic.toLowerCase()));
  if (!entry) return { outcome: 'missing', topic: fact.topic };
  // The entry's line about the topic (its last such line: the answer of a question-and-answer note).
  const line = entry.slice(2).split('\n').filter((l) => l.toLowerCase().includes(fact.topic.toLowerCase())).at(-1) ?? entry.slice(2);
  return { outcome: entry.includes(fact.answer) ? 'correct' : 'wrong', topic: fact.topic, line: line.replace(/^A:\s*/, '') };
}

/**
 * A deterministic provider beside `scripted:` for benchmarks and tests (`environment:<file>`): it reads
 * the prompt it is given and answers correctly only when the needed fact is in its context, first among
 * the memories that mention it; its verbalised confidence follows (correct / wrong / missing). The file
 * is read on every call, so a benchmark can change the world's facts while turns run. Like `scripted:`
 * it is the operator's: a capsule may name it only where the operator allows file-backed models.
 */
export function createEnvironmentModel({ file, id }: { file: string; id?: string }): ChatModel {
  const modelId = id ?? `environment:${file}`;
  const load = (): Environment => {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // Never quote the file: its contents are the operator's.
      throw new SomaError('LLM_FAILED', 'the environment model cannot read its environment file');
    }
    const parsed = environmentSchema.safeParse(raw);
    if (!parsed.success) throw new SomaError('LLM_FAILED', `the environment file is not valid: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    return parsed.data;
  };
  const count = (text: string) => countTiktokens(text, 'o200k_base');
  return {
    id: modelId,
    capabilities: { tools: true, logprobs: false, seed: true, streaming: true },
    countTokens: count,
    async *stream(options: ModelCallOptions): AsyncIterable<ModelStreamPart> {
      options.signal?.throwIfAborted();
      const environment = load();
      const userMessage = options.turn?.userMessage ?? [...options.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      const verdict = judgePrompt(environment, options.messages, userMessage);
      const text =
        verdict.outcome === 'correct' || verdict.outcome === 'wrong'
          ? `From my notes: ${verdict.line}.`
          : verdict.outcome === 'missing'
            ? `I do not know the ${verdict.topic}.`
            : 'I cannot tell.';
      const confidence = environment.control
        ? 0.2 + 0.6 * ((stableSeed(`${userMessage}:${options.seed ?? 0}`) % 10_000) / 10_000)
        : verdict.outcome === 'correct'
          ? environment.confidence.correct
          : verdict.outcome === 'wrong'
            ? environment.confidence.wrong
            : environment.confidence.missing;
      yield { type: 'text-delta', text };
      const output: LlmOutput = {
        text,
        toolCalls: [],
        finishReason: 'stop',
        logprobs: null,
        verbalConfidence: confidence,
        final: true,
        usage: { promptTokens: options.messages.reduce((sum, m) => sum + count(m.content), 0), completionTokens: count(text) },
        model: modelId,
      };
      yield { type: 'finish', output };
    },
  };
}
