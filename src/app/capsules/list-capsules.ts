import type { Failure } from '../../shared/errors.js';
import { ok, type Result } from '../../shared/result.js';
import type { Caller, StoreContext } from '../context.js';
import { decodeCursor, pageOf } from '../keyset-cursor.js';
import { capsuleView, type CapsuleView } from './capsule-view.js';

/** `GET /v1/capsules`: the tenant's capsules, newest first, `limit` at a time. */
export async function listCapsules(
  { store }: Pick<StoreContext, 'store'>,
  { caller, limit = 50, cursor }: { caller: Caller; limit?: number; cursor?: string },
): Promise<Result<{ capsules: CapsuleView[]; next_cursor: string | null }, Failure>> {
  const after = cursor ? decodeCursor(cursor) : undefined;
  if (after && !after.ok) return after;
  const rows = await store.capsules.list(caller.tenantId, { limit: limit + 1, ...(after ? { after: after.value } : {}) });
  const { page, nextCursor } = pageOf(rows, limit, (capsule) => ({ at: capsule.createdAt, id: capsule.id }));
  return ok({ capsules: page.map(capsuleView), next_cursor: nextCursor });
}
