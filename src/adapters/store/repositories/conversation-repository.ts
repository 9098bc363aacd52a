import { and, desc, eq, sql } from 'drizzle-orm';
import type { ConversationRecord, ConversationRepository, MessageRecord, ParticipantRole } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { capabilities, capsules, conversationParticipants, conversations, messages } from '../schema.js';
import { toCapsule } from './capsule-repository.js';
import { fromJsonRow } from './json-row.js';
import { olderThan } from './keyset.js';

type TurnInputsRow = { conversation: Record<string, unknown>; role: ParticipantRole | null; capsule: Record<string, unknown> | null; capabilities: Record<string, unknown>[]; recent: Array<Pick<MessageRecord, 'id' | 'role' | 'content'>> };

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
    async findForTurn(tenantId, userId, id, historyLimit) {
      // One statement instead of four (conversation and role, capsule, its capabilities, history): the
      // capsule must be the tenant's, as the capsule repository's find checks.
      const [row] = (
        (await db.execute(sql`
          select row_to_json(c.*) as conversation, p.role,
            (select row_to_json(k.*) from ${capsules} k where k.id = c.capsule_id and k.tenant_id = c.tenant_id) as capsule,
            (select coalesce(json_agg(row_to_json(a.*)), '[]'::json) from ${capabilities} a where a.capsule_id = c.capsule_id) as capabilities,
            (select coalesce(json_agg(json_build_object('id', h.id, 'role', h.role, 'content', h.content) order by h.n desc), '[]'::json)
               from (select id, role, content, created_at, row_number() over (order by created_at desc) as n from ${messages}
                     where conversation_id = c.id and role in ('user', 'assistant') order by created_at desc limit ${historyLimit}) h) as recent
          from ${conversations} c
          left join ${conversationParticipants} p on p.conversation_id = c.id and p.user_id = ${userId}
          where c.id = ${id} and c.tenant_id = ${tenantId}`)) as unknown as { rows: TurnInputsRow[] }
      ).rows;
      if (!row) return undefined;
      return {
        conversation: fromJsonRow(conversations, row.conversation) satisfies ConversationRecord,
        role: row.role,
        capsule: row.capsule ? toCapsule(fromJsonRow(capsules, row.capsule), row.capabilities.map((capability) => fromJsonRow(capabilities, capability))) : undefined,
        recent: row.recent,
      };
    },
    async countMessages(id, count) {
      await db
        .update(conversations)
        .set({ messageCount: sql`${conversations.messageCount} + ${count}` })
        .where(eq(conversations.id, id));
    },
  };
}
