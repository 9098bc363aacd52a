import type { LearningHistoryPage } from '../../ports/brain.js';
import type { Failure } from '../../shared/errors.js';
import { refuse, type Result } from '../../shared/result.js';
import type { AppContext } from '../context.js';

export type { LearningHistoryEntry, LearningHistoryPage } from '../../ports/brain.js';

/**
 * `GET /v1/capsules/:id/learning`: a capsule's learned state and history, oldest first, `limit`
 * (1…500) rows after `cursor` (the `seq` of the last row seen), through the brain — in process or
 * remote. Tenant-scoped: a capsule of another tenant is CAPSULE_NOT_FOUND.
 */
export async function getLearningHistory(
  { brain }: Pick<AppContext, 'brain'>,
  { tenantId, capsuleId, limit = 50, cursor }: { tenantId: string; capsuleId: string; limit?: number; cursor?: string },
): Promise<Result<LearningHistoryPage, Failure>> {
  const after = cursor === undefined || cursor === '' ? 0 : Number(cursor);
  if (!Number.isSafeInteger(after) || after < 0) return refuse('VALIDATION_FAILED', `cursor must be a cursor returned by this endpoint (got "${cursor}")`);
  const size = Math.min(500, Math.max(1, Math.floor(limit)));
  return brain.learningHistory({ tenantId, capsuleId }, { limit: size, after });
}
