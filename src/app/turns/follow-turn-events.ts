import { closedTurnStatuses, type TurnRecord } from '../../ports/store.js';
import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import type { LoggedEvent } from '../turn-event-log.js';
import { loadTurnFor } from './turn-access.js';

export interface FollowOptions {
  turnId: string;
  /** Events with ids above this one (`Last-Event-ID`; 0 = from the start). */
  after: number;
  /** Stops following (the client went away). */
  signal: AbortSignal;
  /** Stop when this process's run of the turn ends (a `POST …/messages` stream ends at a pause). */
  untilRunEnds?: boolean;
}

/**
 * `GET /v1/turns/:turn_id/events`: checks the caller may read the turn (TURN_NOT_FOUND otherwise),
 * then gives the function that follows its events.
 */
export async function openTurnEvents(
  ctx: Pick<AppContext, 'store' | 'live' | 'settings'>,
  { caller, turnId }: { caller: Caller; turnId: string },
): Promise<Result<(options: Omit<FollowOptions, 'turnId'>) => AsyncGenerator<LoggedEvent>, Failure>> {
  const found = await loadTurnFor(ctx.store, caller, turnId);
  if (!found.ok) return found;
  return ok((options) => followTurnEvents(ctx, { ...options, turnId }));
}

/**
 * A turn's SSE events from `after` on, following it live until it is closed (SPEC §13.4). Events are
 * served from what is stored (so a stream reattached after a restart, or on another server, still
 * gets the whole turn) and, while this process runs the turn, from its event log — the same events
 * with the same ids, the not-yet-stored ones too. A turn another process runs (or that waits for an
 * approval) is polled every `streamPollMs`.
 */
export async function* followTurnEvents(ctx: Pick<AppContext, 'store' | 'live' | 'settings'>, { turnId, after, signal, untilRunEnds = false }: FollowOptions): AsyncGenerator<LoggedEvent> {
  let last = after;
  while (!signal.aborted) {
    const live = ctx.live.get(turnId);
    if (live) {
      // Events before this run began are stored; the run's own ones are in its log.
      if (last < live.log.baseId - 1) {
        for (const event of await ctx.store.streamEvents.list(turnId, { after: last, through: live.log.baseId - 1 })) {
          yield event;
          last = event.id;
        }
      }
      for (;;) {
        // Seen before the events are taken: a run that ended while the last ones were being written
        // released its final events before its end, so they are taken on the next round.
        const ended = live.log.ended !== undefined;
        for (const event of live.log.since(last)) {
          yield event;
          last = event.id;
        }
        if (ended || signal.aborted) break;
        // An event emitted while the last ones were being written is not missed: `changed` sees it is there.
        await live.log.changed(signal, last);
      }
      if (untilRunEnds) return;
      await live.done;
    }
    // Status before events: a turn seen closed has all its events stored.
    const turn: TurnRecord | undefined = await ctx.store.turns.find(turnId);
    for (const event of await ctx.store.streamEvents.list(turnId, { after: last })) {
      yield event;
      last = event.id;
    }
    if (!turn || closedTurnStatuses.includes(turn.status) || untilRunEnds) return;
    if (!ctx.live.get(turnId)) await ctx.live.changed(ctx.settings.streamPollMs, signal);
  }
}
