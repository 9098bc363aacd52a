import { APICallError } from 'ai';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { SomaError, isSomaError } from '../../shared/errors.js';

/** True for the error an aborted call throws (fetch, AbortSignal, node-llama-cpp all use `AbortError`). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** The error a call aborted through `signal` throws: the signal's reason when it is an AbortError. */
export function abortErrorOf(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (isAbortError(reason)) return reason as Error;
  return new DOMException('The model call was aborted', 'AbortError');
}

const timeoutCodes = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

function errorCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * Maps a provider failure to a {@link SomaError}: 429 → `LLM_RATE_LIMITED`, 5xx and broken
 * connections → `LLM_SERVER_ERROR`, 408 and timeouts → `LLM_TIMEOUT` (all retryable), anything
 * else → `LLM_FAILED`. SomaErrors and AbortErrors are returned untouched.
 */
export function toModelError(error: unknown): Error {
  if (isSomaError(error) || isAbortError(error)) return error as Error;
  const message = error instanceof Error ? error.message : String(error);
  if (APICallError.isInstance(error) && error.statusCode !== undefined) {
    const status = error.statusCode;
    const details = { status, body: error.responseBody?.slice(0, 2000) };
    if (status === 429) return new SomaError('LLM_RATE_LIMITED', `model provider rate limit: ${message}`, { retryable: true, cause: error, details });
    if (status === 408) return new SomaError('LLM_TIMEOUT', `model provider timed out: ${message}`, { retryable: true, cause: error, details });
    if (status >= 500) return new SomaError('LLM_SERVER_ERROR', `model provider error ${status}: ${message}`, { retryable: true, cause: error, details });
    return new SomaError('LLM_FAILED', `model call failed (${status}): ${message}`, { cause: error, details });
  }
  const code = errorCodeOf(error);
  if ((error instanceof Error && error.name === 'TimeoutError') || (code !== undefined && timeoutCodes.has(code))) {
    return new SomaError('LLM_TIMEOUT', `model call timed out: ${message}`, { retryable: true, cause: error });
  }
  if ((code !== undefined && connectionCodes.has(code)) || (APICallError.isInstance(error) && error.isRetryable)) {
    return new SomaError('LLM_SERVER_ERROR', `model provider unreachable: ${message}`, { retryable: true, cause: error });
  }
  return new SomaError('LLM_FAILED', `model call failed: ${message}`, { cause: error });
}

export interface RetryOptions {
  /** Attempts after the first one. */
  maxRetries?: number;
  /** First backoff delay; doubles (with jitter) up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (event: { attempt: number; error: SomaError; delayMs: number }) => void;
}

function abortPromise(signal: AbortSignal | undefined): { promise: Promise<never>; dispose(): void } {
  if (!signal) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let listener: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    listener = () => reject(abortErrorOf(signal));
    if (signal.aborted) listener();
    else signal.addEventListener('abort', listener, { once: true });
  });
  return { promise, dispose: () => listener && signal.removeEventListener('abort', listener) };
}

/**
 * Streams the parts of `start()` and retries (exponential backoff) failures that happen **before
 * the first part** arrives when they are retryable (rate limit, 5xx, timeout). Once a part has been
 * yielded a failure is thrown as is, so streamed text is never duplicated. Errors come out mapped by
 * {@link toModelError}; an abort throws the AbortError at once, also during a backoff wait.
 */
export async function* retryUntilFirstPart<T>(
  start: (attempt: number) => AsyncIterator<T>,
  { maxRetries = 3, initialDelayMs = 500, maxDelayMs = 8_000, signal, onRetry }: RetryOptions = {},
): AsyncGenerator<T> {
  const policy = retry(
    handleWhen((error) => isSomaError(error) && error.retryable),
    { maxAttempts: maxRetries, backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }) },
  );
  const listener = policy.onRetry((event) => {
    if ('error' in event && isSomaError(event.error)) onRetry?.({ attempt: event.attempt, error: event.error, delayMs: event.delay });
  });
  const aborted = abortPromise(signal);
  let iterator: AsyncIterator<T> | undefined;
  let first: IteratorResult<T>;
  try {
    const firstAttempt = policy.execute(async ({ attempt }) => {
      const candidate = start(attempt);
      try {
        const result = await candidate.next();
        iterator = candidate;
        return result;
      } catch (error) {
        await candidate.return?.().catch(() => undefined);
        throw toModelError(error);
      }
    }, signal);
    // When an abort wins the race the attempt still settles; its outcome is not needed then.
    firstAttempt.catch(() => undefined);
    first = await Promise.race([firstAttempt, aborted.promise]);
  } finally {
    listener.dispose();
    aborted.dispose();
  }
  if (first.done || !iterator) return;
  const active = iterator;
  try {
    yield first.value;
    while (true) {
      let next: IteratorResult<T>;
      try {
        next = await active.next();
      } catch (error) {
        throw toModelError(error);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await active.return?.().catch(() => undefined);
  }
}
