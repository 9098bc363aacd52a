import { and, asc, eq, gt } from 'drizzle-orm';
import type { EventEnvelope } from '../../../ports/outbox.js';
import type { EventRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { outboxMessages } from '../schema.js';

export function eventRepository(db: Executor): EventRepository {
  return {
    async listForTenant(tenantId, { after, limit }) {
      const rows = await db
        .select({ seq: outboxMessages.seq, payload: outboxMessages.payload, status: outboxMessages.status, publishedAt: outboxMessages.publishedAt, attempts: outboxMessages.attempts })
        .from(outboxMessages)
        .where(and(eq(outboxMessages.tenantId, tenantId), gt(outboxMessages.seq, after)))
        .orderBy(asc(outboxMessages.seq))
        .limit(limit);
      return rows.map((row) => ({ ...row, payload: row.payload as EventEnvelope }));
    },
  };
}
