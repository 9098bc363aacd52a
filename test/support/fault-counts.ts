import { sql } from 'drizzle-orm';
import type { Database } from '../../src/adapters/store/index.js';

/** What the fault matrix counts after a run (SPEC §11): all three must be 0. */
export interface FaultCounts {
  /** Turns still `running` or `awaiting_approval` once everything settled. */
  stuck: number;
  /**
   * Closed turns missing a part: not exactly one assistant message, iteration rows or their
   * `chat.iteration_completed` events not matching the turn's iteration count, or not exactly one
   * `chat.turn_started` and one `chat.turn_complete`.
   */
  halfWritten: number;
  /** Events a closed turn should have written that are absent from the outbox. */
  missingEvents: number;
  turns: number;
}

/** Counts stuck, half-written turns and missing events in the database a Soma wrote. */
export async function faultCounts(database: Database): Promise<FaultCounts> {
  const [row] = await database.query<{ stuck: number; half_written: number; missing: number; turns: number }>(sql`
    -- One pass over each table, grouped by turn (no per-turn subqueries: the 20 s rows write thousands of turns).
    with answers as (
      select turn_id, count(*)::int as n from messages where role = 'assistant' and turn_id is not null group by turn_id
    ), iteration_rows as (
      select turn_id, count(*)::int as n from rlm_iterations group by turn_id
    ), events as (
      select turn_id,
        count(*) filter (where event_type = 'chat.iteration_completed')::int as iteration_events,
        count(*) filter (where event_type = 'chat.turn_started')::int as started_events,
        count(*) filter (where event_type = 'chat.turn_complete')::int as complete_events
      from outbox_messages where turn_id is not null group by turn_id
    ), per_turn as (
      select t.id, t.status, t.iterations,
        coalesce(a.n, 0) as answers,
        coalesce(i.n, 0) as iteration_rows,
        coalesce(e.iteration_events, 0) as iteration_events,
        coalesce(e.started_events, 0) as started_events,
        coalesce(e.complete_events, 0) as complete_events
      from turns t
      left join answers a on a.turn_id = t.id
      left join iteration_rows i on i.turn_id = t.id
      left join events e on e.turn_id = t.id
    )
    select
      count(*) filter (where status in ('running', 'awaiting_approval'))::int as stuck,
      count(*) filter (where status not in ('running', 'awaiting_approval') and (
        answers <> 1 or iteration_rows <> iterations or iteration_events <> iterations or started_events <> 1 or complete_events <> 1))::int as half_written,
      coalesce(sum(greatest(iteration_rows - iteration_events, 0) + greatest(1 - started_events, 0) + greatest(1 - complete_events, 0))
        filter (where status not in ('running', 'awaiting_approval')), 0)::int as missing,
      count(*)::int as turns
    from per_turn`);
  return { stuck: row!.stuck, halfWritten: row!.half_written, missingEvents: row!.missing, turns: row!.turns };
}
