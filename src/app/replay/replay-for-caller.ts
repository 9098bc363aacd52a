import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { loadConversation } from '../conversations.js';
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
export function validateReplayOverrides(overrides: ReplayOverrides): Result<ReplayOverrides, Failure> {
  for (const [key, value] of Object.entries(overrides)) {
    const bounds = settingBounds[key];
    if (!bounds) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < bounds.min || value > bounds.max || (bounds.integer && !Number.isInteger(value))) {
      return refuse('VALIDATION_FAILED', `with.${key} must be a ${bounds.integer ? 'whole number' : 'number'} from ${bounds.min} to ${bounds.max}`);
    }
  }
  return ok(overrides);
}

/**
 * Replays a turn for an API caller: the same use case as `soma replay`, limited to turns of the
 * caller's tenant in conversations the caller takes part in (anything else is TURN_NOT_FOUND).
 * It never writes.
 */
export async function replayTurnForCaller(
  ctx: Pick<AppContext, 'store' | 'clock' | 'countTokens'>,
  { caller, turnId, overrides = {} }: { caller: Caller; turnId: string; overrides?: ReplayOverrides },
): Promise<Result<ReplayReport, Failure>> {
  const valid = validateReplayOverrides(overrides);
  if (!valid.ok) return valid;
  const turn = await ctx.store.turns.find(turnId);
  if (!turn || turn.tenantId !== caller.tenantId) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  const conversation = await loadConversation(ctx.store, caller, turn.conversationId);
  if (!conversation.ok) return refuse('TURN_NOT_FOUND', `turn ${turnId} not found`);
  return replayTurn(ctx, { turnId, tenantId: caller.tenantId, overrides });
}
