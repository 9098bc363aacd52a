import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelStreamPart } from '../../ports/chat-model.js';
import { createModelFactory } from './model-factory.js';
import { withRetries } from './retrying-model.js';
import { createScriptedModel } from './scripted/index.js';

const call = { messages: [{ role: 'user' as const, content: 'hi' }], turn: { userMessage: 'hi', iteration: 0 } };

async function drain(stream: AsyncIterable<ModelStreamPart>): Promise<{ parts: ModelStreamPart[]; error?: unknown }> {
  const parts: ModelStreamPart[] = [];
  try {
    for await (const part of stream) parts.push(part);
    return { parts };
  } catch (error) {
    return { parts, error };
  }
}

describe('withRetries', () => {
  it('retries a scripted provider error before the first part, then gives up with its code', async () => {
    const retries: string[] = [];
    const failing = withRetries(createScriptedModel({ script: { turns: [{ iterations: [{ text: 'x', error: 'rate_limit' }] }] } }), {
      maxRetries: 2,
      initialDelayMs: 1,
      onRetry: ({ error }) => retries.push(error.code),
    });
    const { parts, error } = await drain(failing.stream(call));
    expect(parts).toHaveLength(0);
    expect(error).toMatchObject({ code: 'LLM_RATE_LIMITED', retryable: true });
    expect(retries).toEqual(['LLM_RATE_LIMITED', 'LLM_RATE_LIMITED']);
  });

  it('gets a flaky call through: the faulty attempts are retried, the answer streams once', async () => {
    const script = { faults: { rate: 0.5, seed: 3 }, turns: [{ iterations: [{ text: 'the answer' }] }] };
    const retries: string[] = [];
    const model = withRetries(createScriptedModel({ script }), { maxRetries: 10, initialDelayMs: 1, onRetry: ({ error }) => retries.push(error.code) });
    for (let i = 0; i < 20; i++) {
      const { parts, error } = await drain(model.stream(call));
      expect(error).toBeUndefined();
      expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text).join('')).toBe('the answer');
    }
    expect(retries.length).toBeGreaterThan(5);
  });

  it('is the policy of every model the factory builds', async () => {
    const retries: string[] = [];
    const factory = createModelFactory({ allowScripted: true, retry: { maxRetries: 1, initialDelayMs: 1, onRetry: ({ error }) => retries.push(error.code) } });
    const path = join(mkdtempSync(join(tmpdir(), 'soma-retry-')), 'script.json');
    writeFileSync(path, JSON.stringify({ turns: [{ iterations: [{ text: 'x', error: 'server_error' }] }] }));
    const { error } = await drain(factory.get(`scripted:${path}`).stream(call));
    expect(error).toMatchObject({ code: 'LLM_SERVER_ERROR' });
    expect(retries).toEqual(['LLM_SERVER_ERROR']);
  });
});
