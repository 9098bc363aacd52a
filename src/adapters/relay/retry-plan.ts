/** Exponential backoff of the relay: the first retry waits `baseMs`, each next one twice as long, at most `maxMs`. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before the next try after `failures` consecutive failures (failures ≥ 1). */
export function retryDelayMs(failures: number, { baseMs, maxMs }: BackoffOptions): number {
  const exponent = Math.max(0, failures - 1);
  // 2 ** 1024 is Infinity; Math.min keeps the cap.
  return Math.min(maxMs, baseMs * 2 ** Math.min(exponent, 1023));
}

export interface FailedPublish {
  /** Attempts recorded on the row before this failure. */
  attempts: number;
  /**
   * The broker could not be reached (network, timeout, leader moving). Such a failure is counted and
   * backed off, but never makes a row dead: a Kafka outage must not lose events (SPEC §11).
   */
  transient: boolean;
}

export interface RetryPlan {
  attempts: number;
  status: 'pending' | 'dead';
  /** Epoch ms of the next try (meaningless once dead, kept for the record). */
  nextRetryAt: number;
}

/**
 * What happens to an outbox row after a failed publish, at time `now`: one more attempt; dead once
 * it reached `maxAttempts` and Kafka rejected it; otherwise pending again after the backoff.
 */
export function planRetry(failure: FailedPublish, { now, maxAttempts, backoff }: { now: number; maxAttempts: number; backoff: BackoffOptions }): RetryPlan {
  const attempts = failure.attempts + 1;
  const dead = !failure.transient && attempts >= maxAttempts;
  return { attempts, status: dead ? 'dead' : 'pending', nextRetryAt: now + retryDelayMs(attempts, backoff) };
}
