import type { ApprovalStatus } from '../../ports/store.js';
import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';
import { decodeCursor, pageOf } from '../keyset-cursor.js';
import { approvalView, type ApprovalView } from './approval-view.js';

/** `GET /v1/approvals?status=pending`: approvals of the conversations the caller takes part in, newest first. */
export async function listApprovals(
  { store }: Pick<AppContext, 'store'>,
  { caller, status, limit, cursor }: { caller: Caller; status?: ApprovalStatus; limit: number; cursor?: string },
): Promise<Result<{ approvals: ApprovalView[]; next_cursor: string | null }, Failure>> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (after && !after.ok) return after;
  const rows = await store.approvals.listForUser(caller.tenantId, caller.userId, { limit: limit + 1, ...(status ? { status } : {}), ...(after ? { after: after.value } : {}) });
  const { page, nextCursor } = pageOf(rows, limit, (a) => ({ at: a.requestedAt, id: a.id }));
  return ok({ approvals: page.map(approvalView), next_cursor: nextCursor });
}
