import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

function failTimes(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i += 1) {
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
  }
}

describe('CircuitBreaker', () => {
  it('stays closed through 4 consecutive failures and opens on the 5th', () => {
    const breaker = new CircuitBreaker({ clock: fakeClock() });
    failTimes(breaker, 4);
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('a success resets the count of consecutive failures', () => {
    const breaker = new CircuitBreaker({ clock: fakeClock() });
    failTimes(breaker, 4);
    breaker.tryAcquire();
    breaker.recordSuccess();
    failTimes(breaker, 4);
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one trial through after 30 s and closes when it succeeds', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ clock });
    failTimes(breaker, 5);
    clock.advance(29_999);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryAfterMs).toBe(1);
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.pristine).toBe(true);
  });

  it('a failed trial opens the circuit for another 30 s', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ clock });
    failTimes(breaker, 5);
    clock.advance(30_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    clock.advance(29_000);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('an abandoned trial frees the half-open slot without a verdict', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ clock });
    failTimes(breaker, 5);
    clock.advance(30_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('honours custom thresholds', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker({ clock, failureThreshold: 2, resetAfterMs: 10 });
    failTimes(breaker, 2);
    expect(breaker.tryAcquire()).toBe(false);
    clock.advance(10);
    expect(breaker.tryAcquire()).toBe(true);
  });
});
