/** One fixed quota window in milliseconds since the epoch: `[startMs, endMs)`. */
export interface QuotaWindow {
  startMs: number;
  endMs: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The UTC minute holding `nowMs` (the window of `SOMA_TENANT_TURNS_PER_MINUTE`). */
export function minuteWindow(nowMs: number): QuotaWindow {
  const startMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  return { startMs, endMs: startMs + MINUTE_MS };
}

/** The UTC day holding `nowMs` (the window of `SOMA_TENANT_TOKENS_PER_DAY`). */
export function dayWindow(nowMs: number): QuotaWindow {
  const startMs = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return { startMs, endMs: startMs + DAY_MS };
}

/** The `Retry-After` of a used-up window: whole seconds until it ends, at least 1. */
export function retryAfterSeconds(window: QuotaWindow, nowMs: number): number {
  return Math.max(1, Math.ceil((window.endMs - nowMs) / 1000));
}
