import type { CapsuleRecord, Repositories } from '../../ports/store.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { Caller, StoreContext } from '../context.js';
import { capsuleView, type CapsuleView } from './capsule-view.js';

/** A capsule of the caller's tenant; another tenant's capsule is CAPSULE_NOT_FOUND. */
export async function loadCapsule(repositories: Pick<Repositories, 'capsules'>, caller: Pick<Caller, 'tenantId'>, id: string): Promise<Result<CapsuleRecord, Failure>> {
  return capsuleFound(await repositories.capsules.find(caller.tenantId, id), id);
}

/** {@link loadCapsule}'s decision on a capsule read for the tenant (undefined: none, or another tenant's). */
export function capsuleFound(capsule: CapsuleRecord | undefined, id: string): Result<CapsuleRecord, Failure> {
  return capsule ? ok(capsule) : refuse('CAPSULE_NOT_FOUND', `capsule ${id} not found`);
}

/** `GET /v1/capsules/:id`. */
export async function getCapsule({ store }: Pick<StoreContext, 'store'>, { caller, id }: { caller: Caller; id: string }): Promise<Result<CapsuleView, Failure>> {
  const capsule = await loadCapsule(store, caller, id);
  return capsule.ok ? ok(capsuleView(capsule.value)) : capsule;
}
