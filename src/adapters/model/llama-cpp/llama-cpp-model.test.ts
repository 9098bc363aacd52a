import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatModel, LlmOutput, ModelCallOptions, ModelStreamPart } from '../../../ports/chat-model.js';
import { services, skipWithout } from '../../../../test/support/services.js';
import { createLlamaCppModel } from './llama-cpp-model.js';

async function collect(model: ChatModel, options: ModelCallOptions): Promise<{ parts: ModelStreamPart[]; output: LlmOutput }> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream(options)) parts.push(part);
  const last = parts.at(-1);
  if (last?.type !== 'finish') throw new Error('stream did not end with finish');
  return { parts, output: last.output };
}

const deltas = (parts: ModelStreamPart[]): string => parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');

describe.skipIf(skipWithout('modelPath'))('createLlamaCppModel with the real local model', () => {
  let model: ChatModel;
  beforeAll(async () => {
    model = createLlamaCppModel({ modelPath: services.modelPath as string, contextSize: 2048 });
    await model.warmUp?.();
  }, 120_000);
  afterAll(async () => {
    await model?.close?.();
  });

  it('streams a completion with token usage and log-probabilities', async () => {
    const { parts, output } = await collect(model, {
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Write one sentence about the sea.' },
      ],
      seed: 7,
      temperature: 0.7,
      maxOutputTokens: 40,
    });
    const textDeltas = parts.filter((part) => part.type === 'text-delta');
    expect(textDeltas.length).toBeGreaterThan(3);
    expect(output.text.length).toBeGreaterThan(0);
    expect(deltas(parts).trim()).toBe(output.text);
    expect(output.model).toBe('local:gemma-3-270m-q4_k_m');
    expect(output.usage.promptTokens).toBeGreaterThan(10);
    expect(output.usage.completionTokens).toBeGreaterThan(0);
    expect(output.usage.completionTokens).toBeLessThanOrEqual(41);
    expect(output.logprobs).not.toBeNull();
    expect(output.logprobs?.count).toBe(output.usage.completionTokens);
    expect(output.logprobs?.sum).toBeLessThan(0);
    const confidence = Math.exp((output.logprobs?.sum ?? 0) / (output.logprobs?.count ?? 1));
    expect(confidence).toBeGreaterThan(0);
    expect(confidence).toBeLessThanOrEqual(1);
  }, 120_000);

  it('gives the same completion for the same seed', async () => {
    const options: ModelCallOptions = { messages: [{ role: 'user', content: 'Name a colour.' }], seed: 99, temperature: 0.9, maxOutputTokens: 16 };
    const first = await collect(model, options);
    const second = await collect(model, options);
    expect(second.output.text).toBe(first.output.text);
    expect(second.output.logprobs?.sum).toBeCloseTo(first.output.logprobs?.sum ?? Number.NaN, 4);
  }, 120_000);

  it('stops generating when the signal aborts mid-stream, and stays usable', async () => {
    const controller = new AbortController();
    const parts: ModelStreamPart[] = [];
    const started = Date.now();
    const error = await (async () => {
      for await (const part of model.stream({
        messages: [{ role: 'user', content: 'Tell me a very long story about a lighthouse keeper.' }],
        seed: 1,
        temperature: 0.8,
        maxOutputTokens: 400,
        signal: controller.signal,
      })) {
        parts.push(part);
        if (parts.length === 3) controller.abort();
      }
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    expect(parts.length).toBeLessThan(10);
    expect(Date.now() - started).toBeLessThan(30_000);

    const { output } = await collect(model, { messages: [{ role: 'user', content: 'Say hello.' }], seed: 2, maxOutputTokens: 8 });
    expect(output.usage.completionTokens).toBeGreaterThan(0);
  }, 120_000);

  it('renders earlier tool calls and results in the prompt and answers after them', async () => {
    const calculator = {
      name: 'calculator',
      description: 'Evaluates an arithmetic expression',
      inputSchema: { type: 'object', properties: { expression: { type: 'string', pattern: '^[0-9*+/ -]+$' } }, required: ['expression'] },
    };
    const withoutResult = await collect(model, { messages: [{ role: 'user', content: 'What is 6*7?' }], tools: [calculator], seed: 3, maxOutputTokens: 12 });
    const withResult = await collect(model, {
      messages: [
        { role: 'user', content: 'What is 6*7?' },
        { role: 'assistant', content: '', toolCalls: [{ callId: 'call_1', name: 'calculator', args: { expression: '6*7' } }] },
        { role: 'tool', toolCallId: 'call_1', toolName: 'calculator', content: '42' },
      ],
      tools: [calculator],
      seed: 3,
      maxOutputTokens: 12,
    });
    // The call and its result are part of the prompt the model sees.
    expect(withResult.output.usage.promptTokens).toBeGreaterThan(withoutResult.output.usage.promptTokens + 5);
    expect(['stop', 'length', 'tool-calls']).toContain(withResult.output.finishReason);
    for (const call of [...withResult.output.toolCalls, ...withoutResult.output.toolCalls]) {
      expect(call.name).toBe('calculator');
      expect(typeof (call.args as { expression?: unknown }).expression).toBe('string');
    }
  }, 120_000);

  it('counts tokens with the model tokenizer once loaded', () => {
    expect(model.countTokens('')).toBe(0);
    const count = model.countTokens('The lighthouse keeper climbed the stairs.');
    expect(count).toBeGreaterThan(4);
    expect(count).toBeLessThan(20);
  });
});
