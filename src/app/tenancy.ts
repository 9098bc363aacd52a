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
  /** The key's id, for `DELETE /v1/admin/api-keys/:id`. */
  key_id: string;
  user_id: string;
  /** The key created with the tenant is its admin key. */
  admin: true;
}

export interface CreatedApiKey {
  api_key: string;
  key_id: string;
  user_id: string;
  admin: boolean;
}

/**
 * `POST /v1/admin/tenants`: a tenant and its first API key, in one transaction. That key (user
 * `admin`) is the tenant's admin key: it reads every event of the tenant (SPEC §13.1).
 */
export async function createTenant({ store, ids }: Pick<StoreContext, 'store' | 'ids'>, { name }: { name: string }): Promise<CreatedTenant> {
  const id = ids.uuid();
  const userId = 'admin';
  const apiKey = newApiKey(ids);
  const keyId = ids.uuid();
  await store.transaction(async (tx) => {
    await tx.tenants.insert({ id, name });
    await tx.apiKeys.insert({ id: keyId, tenantId: id, userId, hash: sha256Hex(apiKey), admin: true });
  });
  return { id, name, api_key: apiKey, key_id: keyId, user_id: userId, admin: true };
}

/** On an empty database, creates the first tenant (the embedded set-up); undefined when one exists. */
export async function createFirstTenant(ctx: Pick<StoreContext, 'store' | 'ids'>, { name }: { name: string }): Promise<CreatedTenant | undefined> {
  if (await ctx.store.tenants.hasAny()) return undefined;
  return createTenant(ctx, { name });
}

/** `POST /v1/admin/tenants/:id/api-keys`: a key for `userId` (default a new `user_<hex>`); `admin` makes it an admin key of the tenant. */
export async function createApiKey(
  { store, ids }: Pick<StoreContext, 'store' | 'ids'>,
  { tenantId, userId, admin = false }: { tenantId: string; userId?: string | undefined; admin?: boolean | undefined },
): Promise<Result<CreatedApiKey, Failure>> {
  if (!(await store.tenants.find(tenantId))) return refuse('TENANT_NOT_FOUND', `tenant ${tenantId} not found`);
  const apiKey = newApiKey(ids);
  const keyId = ids.uuid();
  const user = userId ?? `user_${ids.token(6, 'hex')}`;
  await store.apiKeys.insert({ id: keyId, tenantId, userId: user, hash: sha256Hex(apiKey), admin });
  return ok({ api_key: apiKey, key_id: keyId, user_id: user, admin });
}

/** `DELETE /v1/admin/api-keys/:id`: the key never authenticates again (revoking twice is no error); NOT_FOUND for an unknown id. */
export async function revokeApiKeyById({ store, clock }: Pick<StoreContext, 'store' | 'clock'>, { id }: { id: string }): Promise<Result<void, Failure>> {
  return (await store.apiKeys.revokeById(id, new Date(clock.now()))) ? ok(undefined) : refuse('NOT_FOUND', `API key ${id} not found`);
}

/** Revokes a key; false when it was unknown or already revoked. */
export async function revokeApiKey({ store, clock }: Pick<StoreContext, 'store' | 'clock'>, { apiKey }: { apiKey: string }): Promise<boolean> {
  return store.apiKeys.revokeByHash(sha256Hex(apiKey), new Date(clock.now()));
}

/** Resolves an API key to its tenant and user; an unknown or revoked key is UNAUTHORIZED. */
export async function authenticate({ store }: Pick<StoreContext, 'store'>, { apiKey }: { apiKey: string }): Promise<Result<Caller, Failure>> {
  const key = await store.apiKeys.findByHash(sha256Hex(apiKey));
  if (!key || key.revokedAt) return refuse('UNAUTHORIZED', 'invalid or revoked API key');
  return ok({ tenantId: key.tenantId, userId: key.userId, ...(key.admin ? { admin: true } : {}) });
}
