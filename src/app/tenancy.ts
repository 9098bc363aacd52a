import type { Caller, StoreContext } from './context.js';
import type { Failure } from '../shared/errors.js';
import { sha256Hex } from '../shared/hash.js';
import { ok, refuse, type Result } from '../shared/result.js';

export type { Caller } from './context.js';

/** A new API key: `soma_` + 32 random bytes, base64url. Only its SHA-256 is stored. */
function newApiKey(ids: StoreContext['ids']): string {
  return `soma_${ids.token(32, 'base64url')}`;
}

export interface CreatedTenant {
  id: string;
  name: string;
  api_key: string;
  user_id: string;
}

/** `POST /v1/admin/tenants`: a tenant and its first API key (user `admin`), in one transaction. */
export async function createTenant({ store, ids }: Pick<StoreContext, 'store' | 'ids'>, { name }: { name: string }): Promise<CreatedTenant> {
  const id = ids.uuid();
  const userId = 'admin';
  const apiKey = newApiKey(ids);
  await store.transaction(async (tx) => {
    await tx.tenants.insert({ id, name });
    await tx.apiKeys.insert({ id: ids.uuid(), tenantId: id, userId, hash: sha256Hex(apiKey) });
  });
  return { id, name, api_key: apiKey, user_id: userId };
}

/** On an empty database, creates the first tenant (the embedded set-up); undefined when one exists. */
export async function createFirstTenant(ctx: Pick<StoreContext, 'store' | 'ids'>, { name }: { name: string }): Promise<CreatedTenant | undefined> {
  if (await ctx.store.tenants.hasAny()) return undefined;
  return createTenant(ctx, { name });
}

/** `POST /v1/admin/tenants/:id/api-keys`: a key for `userId` (default a new `user_<hex>`). */
export async function createApiKey(
  { store, ids }: Pick<StoreContext, 'store' | 'ids'>,
  { tenantId, userId }: { tenantId: string; userId?: string },
): Promise<Result<{ api_key: string; user_id: string }, Failure>> {
  if (!(await store.tenants.find(tenantId))) return refuse('TENANT_NOT_FOUND', `tenant ${tenantId} not found`);
  const apiKey = newApiKey(ids);
  const user = userId ?? `user_${ids.token(6, 'hex')}`;
  await store.apiKeys.insert({ id: ids.uuid(), tenantId, userId: user, hash: sha256Hex(apiKey) });
  return ok({ api_key: apiKey, user_id: user });
}

/** Revokes a key; false when it was unknown or already revoked. */
export async function revokeApiKey({ store, clock }: Pick<StoreContext, 'store' | 'clock'>, { apiKey }: { apiKey: string }): Promise<boolean> {
  return store.apiKeys.revokeByHash(sha256Hex(apiKey), new Date(clock.now()));
}

/** Resolves an API key to its tenant and user; an unknown or revoked key is UNAUTHORIZED. */
export async function authenticate({ store }: Pick<StoreContext, 'store'>, { apiKey }: { apiKey: string }): Promise<Result<Caller, Failure>> {
  const key = await store.apiKeys.findByHash(sha256Hex(apiKey));
  if (!key || key.revokedAt) return refuse('UNAUTHORIZED', 'invalid or revoked API key');
  return ok({ tenantId: key.tenantId, userId: key.userId });
}
