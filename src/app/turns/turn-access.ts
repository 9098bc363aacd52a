import type { Repositories, TurnRecord } from '../../ports/store.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { Caller } from '../context.js';
import { loadConversation } from '../conversations.js';

/**
 * A turn the caller may see: of the caller's tenant, in a conversation the caller takes part in (any
 * role). Anything else is TURN_NOT_FOUND (never reveal other tenants' or conversations' ids). With
 * `forSend` (deciding an approval, resuming) observers are FORBIDDEN.
 */
export async function loadTurnFor(store: Pick<Repositories, 'turns' | 'conversations'>, caller: Caller, turnId: string, { forSend = false } = {}): Promise<Result<TurnRecord, Failure>> {
  const turn = await store.turns.findInTenant(caller.tenantId, turnId);
  if (!turn) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  const conversation = await loadConversation(store, caller, turn.conversationId, { forSend });
  if (!conversation.ok) return conversation.error.code === 'FORBIDDEN' ? refuse('FORBIDDEN', 'observers cannot decide or resume turns in this conversation') : refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  return ok(turn);
}
