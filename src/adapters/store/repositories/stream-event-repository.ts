import { sql } from 'drizzle-orm';
import type { StoredStreamEvent, StreamEventBatch, StreamEventRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { unpackEvents } from './stream-event-batch.js';

/** A turn's stored SSE batches: those of the turn row (start, closes) and those of its iterations. */
const batchesOf = (turnId: string) => sql`
  SELECT b FROM turns, jsonb_array_elements(turns.stream_events) AS b WHERE turns.id = ${turnId}
  UNION ALL
  SELECT stream_events AS b FROM rlm_iterations WHERE turn_id = ${turnId} AND stream_events IS NOT NULL`;

export function streamEventRepository(db: Executor): StreamEventRepository {
  return {
    async list(turnId, { after, through }) {
      const upper = through === undefined ? sql`` : sql` AND (b->>'first')::int <= ${through}`;
      const result = (await db.execute(sql`SELECT b FROM (${batchesOf(turnId)}) AS batches WHERE (b->>'last')::int > ${after}${upper} ORDER BY (b->>'first')::int`)) as unknown as {
        rows: { b: StreamEventBatch | string }[];
      };
      const events: StoredStreamEvent[] = [];
      for (const row of result.rows) {
        const batch = typeof row.b === 'string' ? (JSON.parse(row.b) as StreamEventBatch) : row.b;
        unpackEvents(batch).forEach(([event, data], index) => {
          const id = batch.first + index;
          if (id > after && (through === undefined || id <= through)) events.push({ id, event, data });
        });
      }
      return events;
    },
    async lastId(turnId) {
      const result = (await db.execute(sql`SELECT coalesce(max((b->>'last')::int), 0) AS last FROM (${batchesOf(turnId)}) AS batches`)) as unknown as { rows: { last: number | string }[] };
      return Number(result.rows[0]?.last ?? 0);
    },
  };
}
