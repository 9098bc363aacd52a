import { dayWindow, minuteWindow, retryAfterSeconds } from '../core/quota/index.js';
import type { Repositories } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';
import type { AppContext, Caller } from './context.js';

/** How long a tenant's past minute windows are kept before the next new window deletes them. */
const KEEP_TURN_WINDOWS_MS = 3_600_000;

/**
 * The tenant quotas of SPEC §13.1, checked as the last refusal before a turn writes anything:
 * tokens used today (UTC) below `SOMA_TENANT_TOKENS_PER_DAY`, then one of the minute's
 * `SOMA_TENANT_TURNS_PER_MINUTE` turns taken atomically in the database — so the limits hold across
 * every Soma process on it. A refusal is `RATE_LIMITED` with `retry_after_seconds` (the `Retry-After`).
 */
export async function admitTurn(ctx: Pick<AppContext, 'store' | 'clock' | 'settings'>, caller: Pick<Caller, 'tenantId'>): Promise<Result<void, Failure>> {
  const { turnsPerMinute, tokensPerDay } = ctx.settings.quotas ?? {};
  const now = ctx.clock.now();
  if (tokensPerDay !== undefined) {
    const day = dayWindow(now);
    const used = await ctx.store.usage.used(caller.tenantId, 'tokens', new Date(day.startMs));
    if (used >= tokensPerDay) {
      const retry = retryAfterSeconds(day, now);
      return refuse('RATE_LIMITED', `the tenant has used its ${tokensPerDay} model tokens of today (UTC); retry after ${retry} s`, {
        quota: 'tokens_per_day',
        limit: tokensPerDay,
        used,
        retry_after_seconds: retry,
      });
    }
  }
  if (turnsPerMinute !== undefined) {
    const minute = minuteWindow(now);
    const count = await ctx.store.usage.admitTurn(caller.tenantId, new Date(minute.startMs), turnsPerMinute);
    if (count === undefined) {
      const retry = retryAfterSeconds(minute, now);
      return refuse('RATE_LIMITED', `the tenant has started its ${turnsPerMinute} turns of this minute; retry after ${retry} s`, {
        quota: 'turns_per_minute',
        limit: turnsPerMinute,
        retry_after_seconds: retry,
      });
    }
    // The first turn of a new minute clears the old windows (at most once a minute per tenant).
    if (count === 1) await ctx.store.usage.forget(caller.tenantId, 'turns', new Date(minute.startMs - KEEP_TURN_WINDOWS_MS));
  }
  return ok(undefined);
}

/** Counts an iteration's model tokens in the tenant's day, in the transaction that stores the iteration. */
export async function countTokens(tx: Pick<Repositories, 'usage'>, { clock }: Pick<AppContext, 'clock'>, tenantId: string, tokens: number): Promise<void> {
  await tx.usage.addTokens(tenantId, new Date(dayWindow(clock.now()).startMs), tokens);
}
