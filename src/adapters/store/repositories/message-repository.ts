import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { MessageRecord, MessageRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { messages } from '../schema.js';

const toMessage = (row: typeof messages.$inferSelect): MessageRecord => ({ ...row, metadata: row.metadata as Record<string, unknown> });

export function messageRepository(db: Executor): MessageRepository {
  return {
    async insert(message) {
      await db.insert(messages).values(message);
    },
    async recentHistory(conversationId, limit) {
      const rows = await db
        .select({ role: messages.role, content: messages.content })
        .from(messages)
        .where(and(eq(messages.conversationId, conversationId), sql`${messages.role} in ('user','assistant')`))
        .orderBy(desc(messages.createdAt))
        .limit(limit);
      return rows.reverse();
    },
    async listByConversation(conversationId) {
      const rows = await db.select().from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.createdAt), asc(messages.role));
      return rows.map(toMessage);
    },
    async listByTurn(turnId) {
      const rows = await db.select().from(messages).where(eq(messages.turnId, turnId)).orderBy(asc(messages.createdAt));
      return rows.map(toMessage);
    },
  };
}
