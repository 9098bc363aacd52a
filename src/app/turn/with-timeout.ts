import { SomaError } from '../../shared/errors.js';

/** Rejects with `BRAIN_UNAVAILABLE` (retryable) when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SomaError('BRAIN_UNAVAILABLE', `${what} timed out after ${ms} ms`, { retryable: true })), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
