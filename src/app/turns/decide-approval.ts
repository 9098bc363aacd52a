import type { ApprovalRecord, Repositories } from '../../ports/store.js';
import { SomaError, type Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { recordEvent } from '../events.js';
import { continueTurn } from '../send-message/index.js';
import { approvalView, type ApprovalView } from './approval-view.js';
import { loadTurnFor } from './turn-access.js';

export interface ApprovalDecision {
  call_id: string;
  approved: boolean;
  reason?: string;
}

/**
 * `POST /v1/turns/:turn_id/approvals` (SPEC §13.4): a participant's decision on one paused call. An
 * unknown call is APPROVAL_NOT_FOUND, a second decision (or one after the timeout) CONFLICT. The
 * decision that leaves no call of the pause undecided resumes the turn — in this process, whichever
 * one ran it before.
 */
export async function decideApproval(ctx: AppContext, { caller, turnId, decision }: { caller: Caller; turnId: string; decision: ApprovalDecision }): Promise<Result<{ turn_id: string; approval: ApprovalView; turn_status: string }, Failure>> {
  const found = await loadTurnFor(ctx.store, caller, turnId, { forSend: true });
  if (!found.ok) return found;
  const approval = await ctx.store.approvals.find(turnId, decision.call_id);
  if (!approval) return refuse('APPROVAL_NOT_FOUND', `turn ${turnId} has no approval request for call ${decision.call_id}`);
  if (approval.status !== 'pending') return refuse('CONFLICT', `call ${decision.call_id} was already ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`);
  if (ctx.live.draining) throw new SomaError('NOT_READY', 'this server is shutting down; send the decision to another server', { retryable: true });
  const now = ctx.clock.now();
  if (approval.expiresAt.getTime() <= now) {
    await settleApproval(ctx, approval, { status: 'expired', reason: 'no decision in time: counts as denied', decidedBy: null });
    return refuse('CONFLICT', `the approval of call ${decision.call_id} timed out at ${approval.expiresAt.toISOString()}; it counts as denied`);
  }
  const settled = await settleApproval(ctx, approval, { status: decision.approved ? 'approved' : 'denied', reason: decision.reason ?? null, decidedBy: caller.userId });
  if (!settled) return refuse('CONFLICT', `call ${decision.call_id} was decided by another request`);
  return ok({ turn_id: turnId, approval: approvalView(settled.approval), turn_status: settled.resumed ? 'running' : (await ctx.store.turns.find(turnId))?.status ?? 'awaiting_approval' });
}

/**
 * Records a decision (also a timeout) with `chat.approval_decided`; when it was the last pending call
 * of the pause, claims the turn (`awaiting_approval` → `running`, one conditional write) in the same
 * transaction and runs it on here. Undefined when the approval was decided meanwhile.
 */
export async function settleApproval(
  ctx: AppContext,
  approval: ApprovalRecord,
  decision: { status: 'approved' | 'denied' | 'expired'; reason: string | null; decidedBy: string | null },
): Promise<{ approval: ApprovalRecord; resumed: boolean } | undefined> {
  const at = new Date(ctx.clock.now());
  const settled = await ctx.store.transaction(async (tx: Repositories) => {
    const decided = await tx.approvals.decide(approval.turnId, approval.callId, { ...decision, at });
    if (!decided) return undefined;
    await recordEvent(tx, ctx, {
      eventType: 'chat.approval_decided',
      tenantId: approval.tenantId,
      turnId: approval.turnId,
      capsuleId: approval.capsuleId,
      subject: approval.callId,
      occurredAt: at,
      payload: { conversation_id: approval.conversationId, iteration: approval.iterationNumber, call_id: approval.callId, name: approval.tool, status: decision.status, reason: decision.reason, decided_by: decision.decidedBy },
    });
    const claimed = (await tx.approvals.countPending(approval.turnId)) === 0 && (await tx.turns.setStatus(approval.turnId, { from: 'awaiting_approval', to: 'running', at }));
    return { approval: decided, resumed: claimed };
  });
  if (settled?.resumed) {
    const turn = await ctx.store.turns.find(approval.turnId);
    if (turn) void continueTurn(ctx, turn, { afterPause: true }).catch((err) => ctx.logger.error({ err, turn_id: approval.turnId }, 'the turn failed after its approvals'));
  }
  return settled;
}
