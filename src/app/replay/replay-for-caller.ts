import { and, eq } from 'drizzle-orm';
import { tables, type Database } from '../../adapters/store/index.js';
import { isSomaError, SomaError } from '../../shared/errors.js';
import { loadConversation } from '../conversations.js';
import type { Caller } from '../tenancy.js';
import { replayTurn, type ReplayOverrides, type ReplayReport } from './replay-turn.js';

/** Loop settings a counterfactual may change, with their bounds (anything else is a learning constant). */
const settingBounds: Record<string, { min: number; max: number; integer: boolean }> = {
  threshold: { min: 0, max: 1, integer: false },
  convergence_threshold: { min: 0, max: 1, integer: false },
  max_iterations: { min: 1, max: 10, integer: true },
  min_iterations: { min: 1, max: 10, integer: true },
  token_budget: { min: 1, max: 10_000_000, integer: true },
};

/** Checks the loop settings of a counterfactual; learning constants are checked by the learning config. */
export function validateReplayOverrides(overrides: ReplayOverrides): void {
  for (const [key, value] of Object.entries(overrides)) {
    const bounds = settingBounds[key];
    if (!bounds) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < bounds.min || value > bounds.max || (bounds.integer && !Number.isInteger(value))) {
      throw new SomaError('VALIDATION_FAILED', `with.${key} must be a ${bounds.integer ? 'whole number' : 'number'} from ${bounds.min} to ${bounds.max}`);
    }
  }
}

/**
 * Replays a turn for an API caller: the same use case as `soma replay`, limited to turns of the
 * caller's tenant in conversations the caller takes part in (anything else is TURN_NOT_FOUND).
 * It never writes.
 */
export async function replayTurnForCaller({ database, caller, turnId, overrides = {} }: { database: Database; caller: Caller; turnId: string; overrides?: ReplayOverrides }): Promise<ReplayReport> {
  validateReplayOverrides(overrides);
  const [turn] = await database.db
    .select({ conversationId: tables.turns.conversationId })
    .from(tables.turns)
    .where(and(eq(tables.turns.id, turnId), eq(tables.turns.tenantId, caller.tenantId)));
  if (!turn) throw new SomaError('TURN_NOT_FOUND', `turn ${turnId} not found`);
  try {
    await loadConversation(database.db, caller, turn.conversationId);
  } catch (err) {
    if (isSomaError(err) && err.code === 'CONVERSATION_NOT_FOUND') throw new SomaError('TURN_NOT_FOUND', `turn ${turnId} not found`);
    throw err;
  }
  return replayTurn({ database, turnId, tenantId: caller.tenantId, overrides });
}
