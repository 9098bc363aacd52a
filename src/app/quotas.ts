import { dayWindow, minuteWindow, retryAfterSeconds } from '../core/quota/index.js';
import type { Repositories } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';
import type { AppContext, Caller } from './context.js';

/** How long a tenant's past minute windows are kept before the next new window deletes them. */
const KEEP_TURN_WINDOWS_MS = 3_600_000;

/**
 * The tenant quotas of SPEC §13.1, checked as the last refusals before a turn writes anything:
 * tokens used today (UTC) below `SOMA_TENANT_TOKENS_PER_DAY` ({@link checkTokenQuota}, a read while
 * the turn is prepared), then one of the minute's `SOMA_TENANT_TURNS_PER_MINUTE` turns taken
 * atomically in the database by the statement that writes the turn ({@link takeTurnSlot}) — so the
 * limits hold across every Soma process on it, and a turn that is refused, or never written, takes
 * no slot. A refusal is `RATE_LIMITED` with `retry_after_seconds` (the `Retry-After`).
 */
export async function checkTokenQuota(ctx: Pick<AppContext, 'store' | 'clock' | 'settings'>, caller: Pick<Caller, 'tenantId'>): Promise<Result<void, Failure>> {
  const { tokensPerDay } = ctx.settings.quotas ?? {};
  if (tokensPerDay === undefined) return ok(undefined);
  const now = ctx.clock.now();
  const day = dayWindow(now);
  const used = await ctx.store.usage.used(caller.tenantId, 'tokens', new Date(day.startMs));
  if (used < tokensPerDay) return ok(undefined);
  const retry = retryAfterSeconds(day, now);
  return refuse('RATE_LIMITED', `the tenant has used its ${tokensPerDay} model tokens of today (UTC); retry after ${retry} s`, {
    quota: 'tokens_per_day',
    limit: tokensPerDay,
    used,
    retry_after_seconds: retry,
  });
}

/** A tenant's turn of this minute, to be taken by the statement that writes the turn. */
export interface TurnSlot {
  tenantId: string;
  limit: number;
  minute: ReturnType<typeof minuteWindow>;
  now: number;
}

/** The minutes whose old windows this process has cleared, per tenant (at most once a minute each). */
const cleared = new Map<string, number>();

/** The slot a turn of `caller` needs now, or undefined when turns are not limited. */
export function turnSlot(ctx: Pick<AppContext, 'clock' | 'settings'>, caller: Pick<Caller, 'tenantId'>): TurnSlot | undefined {
  const limit = ctx.settings.quotas?.turnsPerMinute;
  if (limit === undefined) return undefined;
  const now = ctx.clock.now();
  return { tenantId: caller.tenantId, limit, minute: minuteWindow(now), now };
}

/**
 * Takes the slot inside the turn's one statement: the minute's count is created at 1 or raised by 1
 * only while below the limit; at the limit the write matches no row and nothing of the statement is
 * written. Past windows are cleared once a minute per tenant by each process.
 */
export async function takeTurnSlot(tx: Pick<Repositories, 'usage'>, slot: TurnSlot): Promise<void> {
  await tx.usage.admitTurn(slot.tenantId, new Date(slot.minute.startMs), slot.limit);
  if (cleared.get(slot.tenantId) === slot.minute.startMs) return;
  if (cleared.size >= 10_000) cleared.clear();
  cleared.set(slot.tenantId, slot.minute.startMs);
  await tx.usage.forget(slot.tenantId, 'turns', new Date(slot.minute.startMs - KEEP_TURN_WINDOWS_MS));
}

/**
 * Per tenant, the minute this process found full: a minute's count never goes down (a refused turn
 * takes nothing), so its later turns are refused without a write.
 */
const full = new Map<string, number>();

/** Whether this process already found the slot's minute full. */
export function knownFull(slot: TurnSlot): boolean {
  return full.get(slot.tenantId) === slot.minute.startMs;
}

/** The refusal of a turn whose minute had no slot left (remembered for the rest of the minute). */
export function turnSlotRefused(slot: TurnSlot): Result<never, Failure> {
  if (full.size >= 10_000) full.clear();
  full.set(slot.tenantId, slot.minute.startMs);
  const retry = retryAfterSeconds(slot.minute, slot.now);
  return refuse('RATE_LIMITED', `the tenant has started its ${slot.limit} turns of this minute; retry after ${retry} s`, {
    quota: 'turns_per_minute',
    limit: slot.limit,
    retry_after_seconds: retry,
  });
}

/** Counts an iteration's model tokens in the tenant's day, in the transaction that stores the iteration. */
export async function countTokens(tx: Pick<Repositories, 'usage'>, { clock }: Pick<AppContext, 'clock'>, tenantId: string, tokens: number): Promise<void> {
  await tx.usage.addTokens(tenantId, new Date(dayWindow(clock.now()).startMs), tokens);
}
