import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import type { MessageRecord, MessageRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { messages } from '../schema.js';

const toMessage = (row: typeof messages.$inferSelect): MessageRecord => ({ ...row, metadata: row.metadata as Record<string, unknown> });

export function messageRepository(db: Executor): MessageRepository {
  return {
    async insert(message) {
      await db.insert(messages).values(message);
    },
    async recentHistory(conversationId, limit, before) {
      const rows = await db
        .select({ id: messages.id, role: messages.role, content: messages.content })
        .from(messages)
        .where(and(eq(messages.conversationId, conversationId), sql`${messages.role} in ('user','assistant')`, before ? lt(messages.createdAt, before) : undefined))
        .orderBy(desc(messages.createdAt))
        .limit(limit);
      return rows.reverse();
    },
    async replaceAnswer(turnId, answer) {
      const rows = await db
        .update(messages)
        .set(answer)
        .where(and(eq(messages.turnId, turnId), eq(messages.role, 'assistant')))
        .returning({ id: messages.id });
      return rows.length > 0;
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
