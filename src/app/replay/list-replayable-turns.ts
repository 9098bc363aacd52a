import type { AppContext } from '../context.js';

/** Ids of the finished turns of a conversation and/or started since a time, oldest first (what `soma replay` re-runs). */
export function listReplayableTurns({ store }: Pick<AppContext, 'store'>, filter: { conversationId?: string; since?: Date }): Promise<string[]> {
  return store.turns.listFinishedIds(filter);
}
