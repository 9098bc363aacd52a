import type { Clock } from '../../../ports/clock.js';
import type { CapabilityConfig, Tool } from '../../../ports/tools.js';

/** `current_time {timezone?}` → `{iso, timezone, unix_ms}`; `iso` carries the zone's UTC offset. */
export function createCurrentTimeTool({ capability, clock }: { capability: CapabilityConfig; clock: Clock }): Tool {
  return {
    capability,
    definition: {
      name: capability.name,
      description: capability.description ?? 'Returns the current date and time as an ISO 8601 string, in UTC or in the given IANA time zone.',
      inputSchema: {
        type: 'object',
        properties: { timezone: { type: 'string', minLength: 1, description: 'IANA time zone, e.g. "Europe/Paris"; default UTC' } },
        additionalProperties: false,
      },
    },
    async execute(args) {
      const { timezone = 'UTC' } = (args ?? {}) as { timezone?: string };
      const now = clock.now();
      return { iso: isoInTimeZone(now, timezone), timezone, unix_ms: now };
    },
  };
}

/** ISO 8601 with milliseconds and the zone's offset at that instant, e.g. `2026-11-24T08:30:00.000+01:00`. */
export function isoInTimeZone(epochMs: number, timeZone: string): string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  } catch {
    throw new Error(`unknown time zone "${timeZone}" (use an IANA name such as "Europe/Paris")`);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(epochMs)).map((part) => [part.type, part.value]));
  const field = (name: string) => Number(parts[name]);
  const wholeSecond = Math.floor(epochMs / 1000) * 1000;
  const local = Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second'));
  const offsetMinutes = Math.round((local - wholeSecond) / 60_000);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = offsetMinutes === 0 && timeZone.toUpperCase() === 'UTC'
    ? 'Z'
    : `${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${pad(epochMs - wholeSecond, 3)}${offset}`;
}
