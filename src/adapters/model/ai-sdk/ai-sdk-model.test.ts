import { afterEach, describe, expect, it } from 'vitest';
import type { ChatModel, LlmOutput, ModelCallOptions, ModelStreamPart } from '../../../ports/chat-model.js';
import { SomaError } from '../../../shared/errors.js';
import { createAiSdkModel } from './ai-sdk-model.js';
import { startChatCompletionsServer, type ChatCompletionsServer, type ServerReply } from '../../../../test/fixtures/chat-completions-server.js';

const calculator = {
  name: 'calculator',
  description: 'Evaluates an arithmetic expression',
  inputSchema: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'], additionalProperties: false },
};

let server: ChatCompletionsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(replies: ServerReply[]): Promise<ChatCompletionsServer> {
  server = await startChatCompletionsServer(replies);
  return server;
}

async function collect(model: ChatModel, options: ModelCallOptions): Promise<{ parts: ModelStreamPart[]; output: LlmOutput }> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream(options)) parts.push(part);
  const last = parts.at(-1);
  if (last?.type !== 'finish') throw new Error('stream did not end with finish');
  return { parts, output: last.output };
}

const deltas = (parts: ModelStreamPart[]): string =>
  parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');

const fastRetry = { maxRetries: 2, initialDelayMs: 5, maxDelayMs: 20 };

describe('createAiSdkModel against an OpenAI-compatible server', () => {
  it('streams text and a tool call, with usage, logprobs and the self-assessment parsed out', async () => {
    const { baseURL, requests } = await serve([
      {
        text: [
          { content: 'Let me ', logprob: -0.1 },
          { content: 'compute.\n', logprob: -0.3 },
          { content: 'CONFIDENCE: 0.8\n', logprob: -0.2 },
          { content: 'FINAL', logprob: -0.4 },
        ],
        toolCalls: [{ id: 'call_abc', name: 'calculator', arguments: '{"expression":"6*7"}' }],
        usage: { prompt_tokens: 42, completion_tokens: 9 },
      },
    ]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, retry: fastRetry });
    const { parts, output } = await collect(model, {
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is 6*7?' },
      ],
      tools: [calculator],
      seed: 1234,
      temperature: 0.3,
    });

    expect(model.id).toBe('openai-compatible:tiny');
    expect(deltas(parts)).toBe('Let me compute.\n');
    expect(parts.filter((part) => part.type === 'tool-call')).toEqual([
      { type: 'tool-call', call: { callId: 'call_abc', name: 'calculator', args: { expression: '6*7' } } },
    ]);
    expect(output.text).toBe('Let me compute.');
    expect(output.verbalConfidence).toBe(0.8);
    expect(output.final).toBe(true);
    expect(output.finishReason).toBe('tool-calls');
    expect(output.usage).toEqual({ promptTokens: 42, completionTokens: 9 });
    expect(output.logprobs?.count).toBe(4);
    expect(output.logprobs?.sum).toBeCloseTo(-1.0, 10);

    const body = requests[0] as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'tiny', stream: true, seed: 1234, temperature: 0.3, logprobs: true });
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'calculator', description: calculator.description, parameters: calculator.inputSchema } },
    ]);
  });

  it('sends earlier tool calls and their results back to the provider', async () => {
    const { baseURL, requests } = await serve([{ text: [{ content: '42' }] }]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, retry: fastRetry });
    const { output } = await collect(model, {
      messages: [
        { role: 'user', content: 'What is 6*7?' },
        { role: 'assistant', content: '', toolCalls: [{ callId: 'call_1', name: 'calculator', args: { expression: '6*7' } }] },
        { role: 'tool', toolCallId: 'call_1', toolName: 'calculator', content: '42' },
      ],
      tools: [calculator],
    });
    expect(output.text).toBe('42');
    expect(output.logprobs).toBeNull();
    const messages = (requests[0] as { messages: unknown[] }).messages;
    expect(messages[1]).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"6*7"}' } }],
    });
    expect(messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_1', content: '42' });
  });

  it('reads OpenAI logprobs through the openai provider (chat completions)', async () => {
    const { baseURL, requests } = await serve([{ text: [{ content: 'Hi', logprob: -0.5 }, { content: ' there', logprob: -0.25 }] }]);
    const model = createAiSdkModel({ spec: 'openai:gpt-4o-mini', baseURL, apiKey: 'test-key' });
    const { output } = await collect(model, { messages: [{ role: 'user', content: 'hello' }], seed: 7 });
    expect(output).toMatchObject({ text: 'Hi there', model: 'openai:gpt-4o-mini', logprobs: { count: 2, sum: -0.75 } });
    expect(requests[0]).toMatchObject({ model: 'gpt-4o-mini', seed: 7, logprobs: true });
    expect(model.capabilities).toEqual({ tools: true, logprobs: true, seed: true, streaming: true });
  });

  it('counts tokens with the tiktoken encoding of the model', () => {
    const openai = createAiSdkModel({ spec: 'openai:gpt-4o-mini', apiKey: 'unused' });
    expect(openai.countTokens('')).toBe(0);
    expect(openai.countTokens('Hello world')).toBe(2);
    const sentence = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    expect(openai.countTokens(sentence)).toBeGreaterThan(150);
    expect(openai.countTokens(sentence)).toBeLessThan(sentence.split(/\s+/).length * 2);
  });

  it('rejects a spec it does not know, and openai-compatible without a base URL', () => {
    expect(() => createAiSdkModel({ spec: 'mistral:large' })).toThrow(/openai:<model>/);
    expect(() => createAiSdkModel({ spec: 'openai-compatible:x' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('retries and failures', () => {
  it('retries a 429 with backoff and then streams the answer once', async () => {
    const { baseURL, requests } = await serve([{ status: 429, body: { error: { message: 'slow down', type: 'rate_limit' } } }, { text: [{ content: 'ok' }] }]);
    const retries: string[] = [];
    const model = createAiSdkModel({
      spec: 'openai-compatible:tiny',
      baseURL,
      retry: { ...fastRetry, onRetry: ({ error }) => retries.push(error.code) },
    });
    const { parts, output } = await collect(model, { messages: [{ role: 'user', content: 'hi' }] });
    expect(requests).toHaveLength(2);
    expect(retries).toEqual(['LLM_RATE_LIMITED']);
    expect(deltas(parts)).toBe('ok');
    expect(output.text).toBe('ok');
  });

  it('gives up after the retries with LLM_SERVER_ERROR on repeated 5xx', async () => {
    const { baseURL, requests } = await serve([{ status: 503 }]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, retry: fastRetry });
    const error = await collect(model, { messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SomaError);
    expect(error).toMatchObject({ code: 'LLM_SERVER_ERROR', retryable: true });
    expect(requests).toHaveLength(1 + fastRetry.maxRetries);
  });

  it('does not retry a 400 (LLM_FAILED)', async () => {
    const { baseURL, requests } = await serve([{ status: 400, body: { error: { message: 'bad schema', type: 'invalid_request_error' } } }]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, retry: fastRetry });
    const error = await collect(model, { messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LLM_FAILED', retryable: false });
    expect(requests).toHaveLength(1);
  });

  it('never retries once text was streamed, so no text is duplicated', async () => {
    const { baseURL, requests } = await serve([{ text: [{ content: 'partial ' }, { content: 'answer' }], breakAfterChunks: 2, chunkDelayMs: 30 }]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, retry: fastRetry });
    const parts: ModelStreamPart[] = [];
    const error = await (async () => {
      for await (const part of model.stream({ messages: [{ role: 'user', content: 'hi' }] })) parts.push(part);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SomaError);
    expect(deltas(parts)).toBe('partial ');
    expect(requests).toHaveLength(1);
  });

  it('throws an AbortError mid-stream when the signal aborts, without retrying', async () => {
    const { baseURL, requests } = await serve([{ text: Array.from({ length: 50 }, (_, index) => ({ content: `w${index} ` })), chunkDelayMs: 20 }]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, retry: fastRetry });
    const controller = new AbortController();
    const parts: ModelStreamPart[] = [];
    const error = await (async () => {
      for await (const part of model.stream({ messages: [{ role: 'user', content: 'hi' }], signal: controller.signal })) {
        parts.push(part);
        if (parts.length === 2) controller.abort();
      }
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(parts.length).toBeLessThan(10);
    expect(parts.some((part) => part.type === 'finish')).toBe(false);
    expect(requests).toHaveLength(1);
  });

  it('times out a call that takes too long with the retryable LLM_TIMEOUT', async () => {
    const { baseURL } = await serve([{ text: [{ content: 'a' }, { content: 'b' }], chunkDelayMs: 400 }]);
    const model = createAiSdkModel({ spec: 'openai-compatible:tiny', baseURL, timeoutMs: 150, retry: { maxRetries: 0 } });
    const error = await collect(model, { messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LLM_TIMEOUT', retryable: true });
  });
});
