import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { tables, type Database, type Executor } from '../adapters/store/index.js';
import { SomaError } from '../shared/errors.js';
import { loadCapsule } from './capsules.js';
import type { Caller } from './tenancy.js';

type ConversationRow = typeof tables.conversations.$inferSelect;
type MessageRow = typeof tables.messages.$inferSelect;

export function conversationView(row: ConversationRow) {
  return {
    id: row.id,
    tenant_id: row.tenantId,
    capsule_id: row.capsuleId,
    user_id: row.userId,
    title: row.title,
    status: row.status,
    message_count: row.messageCount,
    created_at: row.createdAt.toISOString(),
  };
}

export function messageView(row: MessageRow) {
  return {
    id: row.id,
    conversation_id: row.conversationId,
    turn_id: row.turnId,
    role: row.role,
    content: row.content,
    token_count: row.tokenCount,
    model: row.model,
    latency_ms: row.latencyMs,
    metadata: row.metadata as Record<string, unknown>,
    created_at: row.createdAt.toISOString(),
  };
}

export async function createConversation({ database, caller, capsuleId, title }: { database: Database; caller: Caller; capsuleId: string; title?: string }) {
  return database.db.transaction(async (tx) => {
    await loadCapsule(tx, caller, capsuleId);
    const id = randomUUID();
    const [row] = await tx
      .insert(tables.conversations)
      .values({ id, tenantId: caller.tenantId, capsuleId, userId: caller.userId, title: title ?? null })
      .returning();
    await tx.insert(tables.conversationParticipants).values({ conversationId: id, userId: caller.userId, role: 'owner' });
    return conversationView(row!);
  });
}

export type ParticipantRole = 'owner' | 'participant' | 'observer';

/**
 * Loads a conversation the caller may see: same tenant and a participant of any role. Anything else
 * is CONVERSATION_NOT_FOUND (never reveal another tenant's ids). With `forSend`, observers get FORBIDDEN.
 */
export async function loadConversation(executor: Executor, caller: Caller, id: string, { forSend = false } = {}) {
  const [row] = await executor
    .select({ conversation: tables.conversations, role: tables.conversationParticipants.role })
    .from(tables.conversations)
    .leftJoin(
      tables.conversationParticipants,
      and(eq(tables.conversationParticipants.conversationId, tables.conversations.id), eq(tables.conversationParticipants.userId, caller.userId)),
    )
    .where(and(eq(tables.conversations.id, id), eq(tables.conversations.tenantId, caller.tenantId)));
  if (!row || !row.role) throw new SomaError('CONVERSATION_NOT_FOUND', `conversation ${id} not found`);
  if (forSend && row.role === 'observer') throw new SomaError('FORBIDDEN', 'observers cannot send messages in this conversation');
  return { conversation: row.conversation, role: row.role as ParticipantRole };
}

export async function getConversation({ database, caller, id }: { database: Database; caller: Caller; id: string }) {
  const { conversation } = await loadConversation(database.db, caller, id);
  return conversationView(conversation);
}

export async function listMessages({ database, caller, id }: { database: Database; caller: Caller; id: string }) {
  await loadConversation(database.db, caller, id);
  const rows = await database.db
    .select()
    .from(tables.messages)
    .where(eq(tables.messages.conversationId, id))
    .orderBy(asc(tables.messages.createdAt), asc(tables.messages.role));
  return { conversation_id: id, messages: rows.map(messageView) };
}
