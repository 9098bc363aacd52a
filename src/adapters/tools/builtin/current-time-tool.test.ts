import { describe, expect, it } from 'vitest';
import { createCurrentTimeTool, isoInTimeZone } from './current-time-tool.js';

const instant = Date.UTC(2026, 10, 24, 7, 30, 15, 250); // 2026-11-24T07:30:15.250Z
const tool = createCurrentTimeTool({ capability: { name: 'current_time', kind: 'builtin', enabled: true }, clock: { now: () => instant } });
const context = { tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal };

describe('current_time', () => {
  it('returns the clock time in UTC by default', async () => {
    expect(await tool.execute({}, context)).toEqual({ iso: '2026-11-24T07:30:15.250Z', timezone: 'UTC', unix_ms: instant });
  });

  it('returns local time with the zone offset, and the ISO string denotes the same instant', async () => {
    const paris = (await tool.execute({ timezone: 'Europe/Paris' }, context)) as { iso: string };
    expect(paris.iso).toBe('2026-11-24T08:30:15.250+01:00');
    expect(Date.parse(paris.iso)).toBe(instant);
    expect(isoInTimeZone(instant, 'America/New_York')).toBe('2026-11-24T02:30:15.250-05:00');
    expect(isoInTimeZone(instant, 'Asia/Kolkata')).toBe('2026-11-24T13:00:15.250+05:30');
    expect(isoInTimeZone(Date.UTC(2026, 6, 1, 12), 'Europe/Paris')).toBe('2026-07-01T14:00:00.000+02:00');
  });

  it('rejects an unknown time zone', async () => {
    await expect(tool.execute({ timezone: 'Mars/Olympus' }, context)).rejects.toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});
