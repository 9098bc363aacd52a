import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { approvalView, type ApprovalView } from './approval-view.js';
import { loadTurnFor } from './turn-access.js';

export interface TurnStatusView {
  turn_id: string;
  conversation_id: string;
  capsule_id: string;
  status: string;
  exit_reason: string | null;
  iterations: number;
  convergence_score: number | null;
  started_at: string;
  completed_at: string | null;
  resumes: number;
  error?: unknown;
  /** Id of the turn's last SSE event so far (`GET /v1/turns/:id/events` with `Last-Event-ID`). */
  last_event_id: number;
  pending_approvals: ApprovalView[];
  /** The turn's answer once it closed. */
  answer: { message_id: string; content: string; partial: boolean } | null;
}

/** `GET /v1/turns/:turn_id` (SPEC §13.4): where a turn is — running, waiting for approval, closed — and its answer. */
export async function getTurnStatus(ctx: Pick<AppContext, 'store' | 'live'>, { caller, turnId }: { caller: Caller; turnId: string }): Promise<Result<TurnStatusView, Failure>> {
  const found = await loadTurnFor(ctx.store, caller, turnId);
  if (!found.ok) return found;
  const turn = found.value;
  const [approvals, messages, storedLast] = await Promise.all([ctx.store.approvals.listByTurn(turnId), ctx.store.messages.listByTurn(turnId), ctx.store.streamEvents.lastId(turnId)]);
  const answer = messages.find((m) => m.role === 'assistant');
  const live = ctx.live.get(turnId);
  const open = turn.status === 'running' || turn.status === 'awaiting_approval';
  const rows = open ? (await ctx.store.iterations.listByTurn(turnId)).length : turn.iterations;
  return ok({
    turn_id: turn.id,
    conversation_id: turn.conversationId,
    capsule_id: turn.capsuleId,
    status: turn.status,
    exit_reason: turn.exitReason,
    iterations: rows,
    convergence_score: turn.convergenceScore,
    started_at: turn.startedAt.toISOString(),
    completed_at: turn.completedAt?.toISOString() ?? null,
    resumes: turn.resumes,
    ...(turn.error ? { error: turn.error } : {}),
    last_event_id: Math.max(storedLast, live && !live.log.ended ? live.log.lastId : 0),
    pending_approvals: approvals.filter((a) => a.status === 'pending').map(approvalView),
    answer: answer && !open ? { message_id: answer.id, content: answer.content, partial: answer.metadata.partial === true } : null,
  });
}
