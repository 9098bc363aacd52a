import { describe, expect, it } from 'vitest';
import { planRetry, retryDelayMs } from './retry-plan.js';

const backoff = { baseMs: 100, maxMs: 1_000 };

describe('retryDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((failures) => retryDelayMs(failures, backoff))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('stays finite for absurd failure counts', () => {
    expect(retryDelayMs(5_000, backoff)).toBe(1_000);
    expect(retryDelayMs(0, backoff)).toBe(100);
  });
});

describe('planRetry', () => {
  const options = { now: 10_000, maxAttempts: 5, backoff };

  it('keeps a rejected row pending with backoff until its fifth attempt, then dead', () => {
    const plans = [0, 1, 2, 3, 4].map((attempts) => planRetry({ attempts, transient: false }, options));
    expect(plans.map((plan) => plan.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'dead']);
    expect(plans.map((plan) => plan.attempts)).toEqual([1, 2, 3, 4, 5]);
    expect(plans.map((plan) => plan.nextRetryAt - options.now)).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('never kills a row because the broker was unreachable', () => {
    const plan = planRetry({ attempts: 40, transient: true }, options);
    expect(plan).toEqual({ attempts: 41, status: 'pending', nextRetryAt: 11_000 });
  });

  it('kills a row that was retried through an outage once Kafka itself rejects it', () => {
    expect(planRetry({ attempts: 7, transient: false }, options).status).toBe('dead');
  });
});
