import { and, desc, eq, lt, or } from 'drizzle-orm';
import { tables, type Database } from '../adapters/store/index.js';
import { decodeCursor, encodeCursor } from './capsules.js';
import { conversationView } from './conversations.js';
import type { Caller } from './tenancy.js';

/**
 * `GET /v1/conversations` — the conversations the caller takes part in (any role), newest first,
 * optionally of one capsule, with a keyset cursor over (created_at, id). Other users' conversations
 * of the same tenant are not listed.
 */
export async function listConversations({ database, caller, capsuleId, limit, cursor }: { database: Database; caller: Caller; capsuleId?: string; limit: number; cursor?: string }) {
  const after = cursor ? decodeCursor(cursor) : undefined;
  const c = tables.conversations;
  const rows = await database.db
    .select({ conversation: c, role: tables.conversationParticipants.role })
    .from(c)
    .innerJoin(tables.conversationParticipants, and(eq(tables.conversationParticipants.conversationId, c.id), eq(tables.conversationParticipants.userId, caller.userId)))
    .where(
      and(
        eq(c.tenantId, caller.tenantId),
        capsuleId ? eq(c.capsuleId, capsuleId) : undefined,
        after ? or(lt(c.createdAt, after.at), and(eq(c.createdAt, after.at), lt(c.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(c.createdAt), desc(c.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    conversations: page.map((r) => ({ ...conversationView(r.conversation), role: r.role })),
    next_cursor: rows.length > limit && last ? encodeCursor(last.conversation.createdAt, last.conversation.id) : null,
  };
}
