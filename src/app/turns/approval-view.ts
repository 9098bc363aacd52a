import type { ApprovalRecord } from '../../ports/store.js';

/** An approval as the API shows it (SPEC §13.4). */
export function approvalView(approval: ApprovalRecord) {
  return {
    id: approval.id,
    turn_id: approval.turnId,
    conversation_id: approval.conversationId,
    capsule_id: approval.capsuleId,
    iteration: approval.iterationNumber,
    call_id: approval.callId,
    name: approval.tool,
    args: approval.args,
    status: approval.status,
    reason: approval.reason,
    decided_by: approval.decidedBy,
    requested_at: approval.requestedAt.toISOString(),
    expires_at: approval.expiresAt.toISOString(),
    decided_at: approval.decidedAt?.toISOString() ?? null,
    ...(approval.outcome ? { outcome: { ok: approval.outcome.ok, outcome: approval.outcome.outcome, ...(approval.outcome.ok ? { result: approval.outcome.result } : { error: approval.outcome.error }) } } : {}),
  };
}

export type ApprovalView = ReturnType<typeof approvalView>;
