import { and, asc, count, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { EventEnvelope } from '../../../ports/outbox.js';
import type { EventRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { conversationParticipants, outboxMessages, turns } from '../schema.js';

/**
 * Whether `userId` may read an outbox row: the row is tied to no conversation (no `turn_id` in its
 * envelope, no `conversation_id` in its payload), or the user takes part in the conversation it is
 * tied to — a turn's event to the turn's conversation. An event whose turn is unknown is not readable.
 */
function readableBy(userId: string) {
  const turnId = sql`${outboxMessages.payload}->>'turn_id'`;
  const conversationId = sql`${outboxMessages.payload}->'payload'->>'conversation_id'`;
  const conversationOfEvent = sql`coalesce((select ${turns.conversationId}::text from ${turns} where ${turns.id} = case when ${turnId} ~ '^[0-9a-fA-F-]{36}$' then (${turnId})::uuid end), case when ${turnId} is null then ${conversationId} end)`;
  return sql`((${turnId} is null and ${conversationId} is null) or exists (select 1 from ${conversationParticipants} where ${conversationParticipants.userId} = ${userId} and ${conversationParticipants.conversationId}::text = ${conversationOfEvent}))`;
}

/** Serialises the numbering of committed events across every process on the database. */
const NUMBERING_LOCK = 727_002;
/** Events numbered per statement. */
const NUMBERING_BATCH = 5_000;

/**
 * Gives committed, unnumbered outbox rows their log positions, after every position given so far, in
 * `seq` order. A row is numbered only once it committed (the numbering transaction cannot see it
 * before), and numberings run one at a time (an advisory lock taken before the statement's snapshot),
 * so a transaction that commits late gets a later position than everything already served: a reader
 * following `after=<position>` never skips it. One statement when nothing is waiting.
 */
export async function numberCommittedEvents(db: Executor): Promise<void> {
  const [waiting] = await db.select({ id: outboxMessages.id }).from(outboxMessages).where(sql`${outboxMessages.position} IS NULL`).limit(1);
  if (!waiting) return;
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${NUMBERING_LOCK})`);
    await tx.execute(sql`
      UPDATE outbox_messages AS o SET position = base.top + todo.n
      FROM (SELECT id, row_number() OVER (ORDER BY seq) AS n FROM (SELECT id, seq FROM outbox_messages WHERE position IS NULL ORDER BY seq LIMIT ${NUMBERING_BATCH}) AS w) AS todo,
           (SELECT coalesce(max(position), 0) AS top FROM outbox_messages) AS base
      WHERE o.id = todo.id`);
  });
}

export function eventRepository(db: Executor): EventRepository {
  return {
    async listForTenant(tenantId, { after, limit, readableBy: userId }) {
      await numberCommittedEvents(db);
      const rows = await db
        .select({ seq: outboxMessages.position, payload: outboxMessages.payload, status: outboxMessages.status, publishedAt: outboxMessages.publishedAt, attempts: outboxMessages.attempts })
        .from(outboxMessages)
        .where(and(eq(outboxMessages.tenantId, tenantId), gt(outboxMessages.position, after), userId === undefined ? undefined : readableBy(userId)))
        .orderBy(asc(outboxMessages.position))
        .limit(limit);
      return rows.map((row) => ({ ...row, seq: Number(row.seq), payload: row.payload as EventEnvelope }));
    },
    async countPending() {
      const [row] = await db.select({ n: count() }).from(outboxMessages).where(eq(outboxMessages.status, 'pending'));
      return Number(row?.n ?? 0);
    },
    async deleteOlderThan({ before, statuses, limit }) {
      const doomed = db
        .select({ id: outboxMessages.id })
        .from(outboxMessages)
        .where(and(inArray(outboxMessages.status, statuses), lt(outboxMessages.createdAt, before)))
        .limit(limit);
      const rows = await db.delete(outboxMessages).where(inArray(outboxMessages.id, doomed)).returning({ id: outboxMessages.id });
      return rows.length;
    },
  };
}
