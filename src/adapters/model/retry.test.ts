import { APICallError } from 'ai';
import { describe, expect, it } from 'vitest';
import { SomaError } from '../../shared/errors.js';
import { retryUntilFirstPart, toModelError } from './retry.js';

function apiError(statusCode: number): APICallError {
  return new APICallError({ message: `status ${statusCode}`, url: 'http://127.0.0.1/v1/chat/completions', requestBodyValues: {}, statusCode });
}

async function* parts(items: string[], failAfter?: Error): AsyncGenerator<string> {
  for (const item of items) yield item;
  if (failAfter) throw failAfter;
}

async function drain(iterable: AsyncIterable<string>): Promise<{ items: string[]; error?: unknown }> {
  const items: string[] = [];
  try {
    for await (const item of iterable) items.push(item);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

describe('toModelError', () => {
  it('maps provider statuses and network failures to the LLM codes', () => {
    expect(toModelError(apiError(429))).toMatchObject({ code: 'LLM_RATE_LIMITED', retryable: true });
    expect(toModelError(apiError(503))).toMatchObject({ code: 'LLM_SERVER_ERROR', retryable: true });
    expect(toModelError(apiError(408))).toMatchObject({ code: 'LLM_TIMEOUT', retryable: true });
    expect(toModelError(apiError(401))).toMatchObject({ code: 'LLM_FAILED', retryable: false });
    expect(toModelError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({ code: 'LLM_SERVER_ERROR', retryable: true });
    expect(toModelError(new DOMException('slow', 'TimeoutError'))).toMatchObject({ code: 'LLM_TIMEOUT' });
    expect(toModelError(new Error('weird'))).toMatchObject({ code: 'LLM_FAILED', retryable: false });
  });

  it('lets AbortErrors through untouched', () => {
    const abort = new DOMException('stop', 'AbortError');
    expect(toModelError(abort)).toBe(abort);
  });
});

describe('retryUntilFirstPart', () => {
  it('retries failures before the first part and then streams once', async () => {
    let attempts = 0;
    const result = await drain(
      retryUntilFirstPart(
        () => {
          attempts++;
          return attempts < 3 ? parts([], apiError(500)) : parts(['a', 'b']);
        },
        { maxRetries: 3, initialDelayMs: 1, maxDelayMs: 2 },
      ),
    );
    expect(result).toEqual({ items: ['a', 'b'] });
    expect(attempts).toBe(3);
  });

  it('never retries after a part was yielded', async () => {
    let attempts = 0;
    const result = await drain(
      retryUntilFirstPart(
        () => {
          attempts++;
          return parts(['a'], apiError(502));
        },
        { maxRetries: 3, initialDelayMs: 1 },
      ),
    );
    expect(result.items).toEqual(['a']);
    expect(result.error).toBeInstanceOf(SomaError);
    expect(attempts).toBe(1);
  });

  it('stops waiting for a backoff as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 30);
    const result = await drain(retryUntilFirstPart(() => parts([], apiError(429)), { maxRetries: 5, initialDelayMs: 5_000, maxDelayMs: 5_000, signal: controller.signal }));
    expect(result.error).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
