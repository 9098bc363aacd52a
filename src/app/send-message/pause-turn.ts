import type { Repositories } from '../../ports/store.js';
import type { ToolOutcome } from '../../ports/tools.js';
import { SomaError } from '../../shared/errors.js';
import type { AppContext } from '../context.js';
import { recordEvent } from '../events.js';
import type { IterationOwner } from './save-iteration.js';

/**
 * The writes that pause a turn for approval (SPEC §13.4), in the transaction of the iteration that
 * made the calls: one approval row per call, the turn `awaiting_approval`, and
 * `chat.approval_requested`. From then on the turn holds nothing but its rows: any process may resume it.
 */
export async function pauseForApproval(
  ctx: Pick<AppContext, 'ids' | 'clock'>,
  tx: Repositories,
  { owner, iteration, calls, expiresAt }: { owner: IterationOwner; iteration: number; calls: ToolOutcome[]; expiresAt: Date },
): Promise<void> {
  const { turnId, tenantId, conversationId, capsuleId } = owner;
  const at = new Date(ctx.clock.now());
  await tx.approvals.insertMany(
    calls.map((call) => ({ id: ctx.ids.uuid(), turnId, tenantId, conversationId, capsuleId, iterationNumber: iteration, callId: call.callId, tool: call.name, args: call.args, requestedAt: at, expiresAt })),
  );
  if (!(await tx.turns.setStatus(turnId, { from: 'running', to: 'awaiting_approval', at }))) {
    throw new SomaError('CONFLICT', `turn ${turnId} is not running any more; it cannot pause`);
  }
  await recordEvent(tx, ctx, {
    eventType: 'chat.approval_requested',
    tenantId,
    turnId,
    capsuleId,
    iteration,
    occurredAt: at,
    payload: { conversation_id: conversationId, iteration, expires_at: expiresAt.toISOString(), calls: calls.map((c) => ({ call_id: c.callId, name: c.name, args: c.args })) },
  });
}
