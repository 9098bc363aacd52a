import type { ConversationRecord, MessageRecord, ParticipantRole, Repositories } from '../ports/store.js';
import type { Failure } from '../shared/errors.js';
import { ok, refuse, type Result } from '../shared/result.js';
import { loadCapsule } from './capsules/index.js';
import type { Caller, StoreContext } from './context.js';
import { decodeCursor, pageOf } from './keyset-cursor.js';

export function conversationView(conversation: ConversationRecord) {
  return {
    id: conversation.id,
    tenant_id: conversation.tenantId,
    capsule_id: conversation.capsuleId,
    user_id: conversation.userId,
    title: conversation.title,
    status: conversation.status,
    message_count: conversation.messageCount,
    created_at: conversation.createdAt.toISOString(),
  };
}

export function messageView(message: MessageRecord) {
  return {
    id: message.id,
    conversation_id: message.conversationId,
    turn_id: message.turnId,
    role: message.role,
    content: message.content,
    token_count: message.tokenCount,
    model: message.model,
    latency_ms: message.latencyMs,
    metadata: message.metadata,
    created_at: message.createdAt.toISOString(),
  };
}

/** `POST /v1/conversations`: a conversation on one of the tenant's capsules, owned by the caller. */
export async function createConversation(ctx: StoreContext, { caller, capsuleId, title }: { caller: Caller; capsuleId: string; title?: string }) {
  return ctx.store.transaction(async (tx) => {
    const capsule = await loadCapsule(tx, caller, capsuleId);
    if (!capsule.ok) return capsule;
    const conversation = await tx.conversations.insert({ id: ctx.ids.uuid(), tenantId: caller.tenantId, capsuleId, userId: caller.userId, title: title ?? null, createdAt: new Date(ctx.clock.now()) });
    return ok(conversationView(conversation));
  });
}

/**
 * A conversation the caller may see: same tenant and a participant of any role. Anything else is
 * CONVERSATION_NOT_FOUND (never reveal another tenant's ids). With `forSend`, observers are FORBIDDEN.
 */
export async function loadConversation(
  repositories: Pick<Repositories, 'conversations'>,
  caller: Caller,
  id: string,
  { forSend = false } = {},
): Promise<Result<{ conversation: ConversationRecord; role: ParticipantRole }, Failure>> {
  return conversationAccess(await repositories.conversations.findWithRole(caller.tenantId, caller.userId, id), id, { forSend });
}

/** {@link loadConversation}'s decision on a conversation read with the caller's role in it (undefined: not the tenant's). */
export function conversationAccess(
  found: { conversation: ConversationRecord; role: ParticipantRole | null } | undefined,
  id: string,
  { forSend = false } = {},
): Result<{ conversation: ConversationRecord; role: ParticipantRole }, Failure> {
  if (!found || !found.role) return refuse('CONVERSATION_NOT_FOUND', `conversation ${id} not found`);
  if (forSend && found.role === 'observer') return refuse('FORBIDDEN', 'observers cannot send messages in this conversation');
  return ok({ conversation: found.conversation, role: found.role });
}

/** `GET /v1/conversations/:id`. */
export async function getConversation({ store }: Pick<StoreContext, 'store'>, { caller, id }: { caller: Caller; id: string }) {
  const found = await loadConversation(store, caller, id);
  return found.ok ? ok(conversationView(found.value.conversation)) : found;
}

/** `GET /v1/conversations/:id/messages`: every message in order. */
export async function listMessages({ store }: Pick<StoreContext, 'store'>, { caller, id }: { caller: Caller; id: string }) {
  const found = await loadConversation(store, caller, id);
  if (!found.ok) return found;
  const messages = await store.messages.listByConversation(id);
  return ok({ conversation_id: id, messages: messages.map(messageView) });
}

/**
 * `GET /v1/conversations`: the conversations the caller takes part in (any role), newest first,
 * optionally of one capsule. Other users' conversations of the same tenant are not listed.
 */
export async function listConversations({ store }: Pick<StoreContext, 'store'>, { caller, capsuleId, limit, cursor }: { caller: Caller; capsuleId?: string; limit: number; cursor?: string }) {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (after && !after.ok) return after;
  const rows = await store.conversations.listForUser(caller.tenantId, caller.userId, { limit: limit + 1, ...(after ? { after: after.value } : {}), ...(capsuleId ? { capsuleId } : {}) });
  const { page, nextCursor } = pageOf(rows, limit, (row) => ({ at: row.conversation.createdAt, id: row.conversation.id }));
  return ok({ conversations: page.map((row) => ({ ...conversationView(row.conversation), role: row.role })), next_cursor: nextCursor });
}
