import { and, desc, eq, sql } from 'drizzle-orm';
import type { ConversationRecord, ConversationRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { conversationParticipants, conversations } from '../schema.js';
import { olderThan } from './keyset.js';

export function conversationRepository(db: Executor): ConversationRepository {
  return {
    async insert(conversation) {
      const [row] = await db.insert(conversations).values(conversation).returning();
      await db.insert(conversationParticipants).values({ conversationId: conversation.id, userId: conversation.userId, role: 'owner' });
      return row! satisfies ConversationRecord;
    },
    async find(tenantId, id) {
      const [row] = await db.select().from(conversations).where(and(eq(conversations.id, id), eq(conversations.tenantId, tenantId)));
      return row;
    },
    async findWithRole(tenantId, userId, id) {
      const [row] = await db
        .select({ conversation: conversations, role: conversationParticipants.role })
        .from(conversations)
        .leftJoin(conversationParticipants, and(eq(conversationParticipants.conversationId, conversations.id), eq(conversationParticipants.userId, userId)))
        .where(and(eq(conversations.id, id), eq(conversations.tenantId, tenantId)));
      return row;
    },
    async listForUser(tenantId, userId, { limit, after, capsuleId }) {
      return db
        .select({ conversation: conversations, role: conversationParticipants.role })
        .from(conversations)
        .innerJoin(conversationParticipants, and(eq(conversationParticipants.conversationId, conversations.id), eq(conversationParticipants.userId, userId)))
        .where(and(eq(conversations.tenantId, tenantId), capsuleId ? eq(conversations.capsuleId, capsuleId) : undefined, olderThan(conversations.createdAt, conversations.id, after)))
        .orderBy(desc(conversations.createdAt), desc(conversations.id))
        .limit(limit);
    },
    async countMessages(id, count) {
      await db
        .update(conversations)
        .set({ messageCount: sql`${conversations.messageCount} + ${count}` })
        .where(eq(conversations.id, id));
    },
  };
}
