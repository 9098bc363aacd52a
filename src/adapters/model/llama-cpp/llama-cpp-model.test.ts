import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatModel, LlmOutput, ModelCallOptions, ModelStreamPart } from '../../../ports/chat-model.js';
import { services, skipWithout } from '../../../../test/support/services.js';
import { basename } from 'node:path';
import { ChatMLChatWrapper } from 'node-llama-cpp';
import { createCalculatorTool } from '../../tools/builtin/index.js';
import { createLlamaCppModel } from './llama-cpp-model.js';
import { toLlamaHistory } from './to-llama-history.js';

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
    expect(output.model).toBe(`local:${basename(services.modelPath as string).replace(/\.gguf$/, '')}`);
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

  const calculator = createCalculatorTool({ capability: { name: 'calculator', kind: 'builtin', enabled: true } }).definition;
  const system = { role: 'system' as const, content: 'Answer the question in one short sentence.' };

  it('decides on a tool call with the grammar-constrained decision step, and not for a question without numbers', async () => {
    const question = 'What is 123 * 456?';
    const { parts, output } = await collect(model, { messages: [system, { role: 'user', content: question }], tools: [calculator], seed: 3, temperature: 0, maxOutputTokens: 64, turn: { userMessage: question, iteration: 0 } });
    expect(output.toolCalls).toHaveLength(1);
    expect(output.toolCalls[0]).toMatchObject({ name: 'calculator' });
    expect(String((output.toolCalls[0]!.args as { expression: string }).expression).replace(/\s/g, '')).toBe('123*456');
    expect(output.finishReason).toBe('tool-calls');
    expect(output.text).toBe('');
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([]);
    expect(output.usage.promptTokens).toBeGreaterThan(100);

    const factual = 'What is the capital of France?';
    const answer = await collect(model, { messages: [system, { role: 'user', content: factual }], tools: [calculator], seed: 3, temperature: 0, maxOutputTokens: 64, turn: { userMessage: factual, iteration: 0 } });
    expect(answer.output.toolCalls).toEqual([]);
    expect(answer.output.text).toContain('Paris');
  }, 120_000);

  it('shows a tool call and its result to the model as its own function call turn, and answers with the result', async () => {
    const question = 'What is 123 * 456?';
    const messages: ChatMessage[] = [
      system,
      { role: 'user', content: question },
      { role: 'assistant', content: '', toolCalls: [{ callId: 'call_1', name: 'calculator', args: { expression: '123 * 456' } }] },
      { role: 'tool', toolCallId: 'call_1', toolName: 'calculator', content: '{"result":56088}' },
    ];
    // How node-llama-cpp's ChatML template renders that history: the call and result in the assistant's turn, never as user text.
    const rendered = new ChatMLChatWrapper().generateContextState({ chatHistory: toLlamaHistory(messages) }).contextText.toString();
    const assistantTurn = rendered.slice(rendered.lastIndexOf('<|im_start|>assistant'));
    expect(assistantTurn).toContain('||call: calculator({"expression": "123 * 456"})');
    expect(assistantTurn).toContain('"result": 56088');
    expect(rendered.slice(0, rendered.lastIndexOf('<|im_start|>assistant'))).not.toContain('56088');

    const { output } = await collect(model, { messages, tools: [calculator], seed: 3, temperature: 0, maxOutputTokens: 64, turn: { userMessage: question, iteration: 1 } });
    expect(output.toolCalls).toEqual([]);
    expect(output.text.replace(/,/g, '')).toContain('56088');
  }, 120_000);

  it('ends at the end-of-turn token and at a stop sequence', async () => {
    const messages: ChatMessage[] = [system, { role: 'user', content: 'What is the capital of France?' }];
    const plain = await collect(model, { messages, seed: 1, temperature: 0, maxOutputTokens: 64 });
    expect(plain.output.finishReason).toBe('stop');
    expect(plain.output.usage.completionTokens).toBeLessThan(40);
    const stopped = await collect(model, { messages, seed: 1, temperature: 0, maxOutputTokens: 64, stopSequences: ['Paris'] });
    expect(stopped.output.finishReason).toBe('stop');
    expect(stopped.output.text).not.toContain('Paris');
    expect(plain.output.text.startsWith(stopped.output.text.trim())).toBe(true);
    const cut = await collect(model, { messages: [{ role: 'user', content: 'Write a long story about a lighthouse.' }], seed: 1, temperature: 0, maxOutputTokens: 8 });
    expect(cut.output.finishReason).toBe('length');
  }, 120_000);

  it('counts tokens with the model tokenizer once loaded', () => {
    expect(model.countTokens('')).toBe(0);
    const count = model.countTokens('The lighthouse keeper climbed the stairs.');
    expect(count).toBeGreaterThan(4);
    expect(count).toBeLessThan(20);
  });
});
