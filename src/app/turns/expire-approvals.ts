import type { AppContext } from '../context.js';
import { settleApproval } from './decide-approval.js';

/** How many timed-out approvals one sweep settles at most. */
const EXPIRY_BATCH = 100;

/**
 * Approvals nobody decided within `tool_policy.approval_timeout_s` count as denied (SPEC §13.4): each
 * is settled `expired`, and a turn with no pending call left runs on here (the model sees the denial).
 * Returns how many expired.
 */
export async function expireApprovals(ctx: AppContext): Promise<number> {
  let expired = 0;
  for (const approval of await ctx.store.approvals.listExpired(new Date(ctx.clock.now()), EXPIRY_BATCH)) {
    if (await settleApproval(ctx, approval, { status: 'expired', reason: 'no decision in time: counts as denied', decidedBy: null })) expired++;
  }
  return expired;
}
