import type { Clock } from '../../ports/clock.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  clock: Clock;
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one trial call is let through. */
  resetAfterMs?: number;
}

/**
 * A per-tool circuit breaker (SPEC §6): closed → open after `failureThreshold` consecutive
 * failures → half-open once `resetAfterMs` have passed on the injected clock → exactly one trial
 * call → closed when it succeeds, open again (for another `resetAfterMs`) when it fails.
 *
 * Callers ask {@link tryAcquire} before executing and then report exactly one of
 * {@link recordSuccess}, {@link recordFailure} or {@link release} (the call was abandoned, e.g. the
 * turn was cancelled: it counts neither way).
 */
export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #failureThreshold: number;
  readonly #resetAfterMs: number;
  #state: CircuitState = 'closed';
  #consecutiveFailures = 0;
  #openedAt = 0;
  #trialInFlight = false;

  constructor({ clock, failureThreshold = 5, resetAfterMs = 30_000 }: CircuitBreakerOptions) {
    if (!(failureThreshold >= 1)) throw new RangeError('failureThreshold must be at least 1');
    if (!(resetAfterMs >= 0)) throw new RangeError('resetAfterMs must not be negative');
    this.#clock = clock;
    this.#failureThreshold = failureThreshold;
    this.#resetAfterMs = resetAfterMs;
  }

  /** The state as of now (an open circuit whose wait has passed reports `half-open`). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#resetAfterMs) return 'half-open';
    return this.#state;
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** Milliseconds until an open circuit lets a trial through; 0 when not open. */
  get retryAfterMs(): number {
    if (this.#state !== 'open') return 0;
    return Math.max(0, this.#openedAt + this.#resetAfterMs - this.#clock.now());
  }

  /** True when nothing distinguishes this breaker from a new one (safe to forget). */
  get pristine(): boolean {
    return this.#state === 'closed' && this.#consecutiveFailures === 0;
  }

  /** Whether a call may run now. In half-open only the first caller gets the trial. */
  tryAcquire(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#clock.now() - this.#openedAt < this.#resetAfterMs) return false;
      this.#state = 'half-open';
      this.#trialInFlight = false;
    }
    if (this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  recordSuccess(): void {
    this.#state = 'closed';
    this.#consecutiveFailures = 0;
    this.#trialInFlight = false;
  }

  recordFailure(): void {
    this.#consecutiveFailures += 1;
    if (this.#state === 'half-open' || this.#consecutiveFailures >= this.#failureThreshold) {
      this.#state = 'open';
      this.#openedAt = this.#clock.now();
    }
    this.#trialInFlight = false;
  }

  /** The acquired call did not run to a verdict; a half-open trial slot becomes free again. */
  release(): void {
    this.#trialInFlight = false;
  }
}
