import { describe, expect, it } from 'vitest';
import { dayWindow, minuteWindow, retryAfterSeconds } from './index.js';

const at = (iso: string) => Date.parse(iso);

describe('quota windows', () => {
  it('a minute window is the UTC minute; Retry-After counts the seconds left in it, rounded up', () => {
    const now = at('2026-12-01T10:15:42.300Z');
    const window = minuteWindow(now);
    expect([new Date(window.startMs).toISOString(), new Date(window.endMs).toISOString()]).toEqual(['2026-12-01T10:15:00.000Z', '2026-12-01T10:16:00.000Z']);
    expect(retryAfterSeconds(window, now)).toBe(18);
    expect(retryAfterSeconds(window, at('2026-12-01T10:15:00.000Z'))).toBe(60);
  });

  it('a day window is the UTC day; Retry-After is the time to midnight UTC', () => {
    const now = at('2026-12-01T23:00:00.000Z');
    const window = dayWindow(now);
    expect(new Date(window.startMs).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(retryAfterSeconds(window, now)).toBe(3600);
  });

  it('Retry-After is never below one second', () => {
    const now = at('2026-12-01T10:15:59.999Z');
    expect(retryAfterSeconds(minuteWindow(now), now)).toBe(1);
    expect(retryAfterSeconds({ startMs: 0, endMs: 10 }, 50)).toBe(1);
  });
});
