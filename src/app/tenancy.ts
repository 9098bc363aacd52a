import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { tables, type Database } from '../adapters/store/index.js';
import { SomaError } from '../shared/errors.js';
import { sha256Hex } from '../shared/hash.js';

/** Who is calling: resolved from a bearer API key. */
export interface Caller {
  tenantId: string;
  userId: string;
}

/** A new API key: `soma_` + 32 random bytes, base64url. Only its SHA-256 is stored. */
function newApiKey(): string {
  return `soma_${randomBytes(32).toString('base64url')}`;
}

export async function createTenant({ database, name }: { database: Database; name: string }) {
  const id = randomUUID();
  const userId = 'admin';
  const apiKey = newApiKey();
  await database.db.transaction(async (tx) => {
    await tx.insert(tables.tenants).values({ id, name });
    await tx.insert(tables.apiKeys).values({ id: randomUUID(), tenantId: id, userId, hash: sha256Hex(apiKey) });
  });
  return { id, name, api_key: apiKey, user_id: userId };
}

export async function createApiKey({ database, tenantId, userId }: { database: Database; tenantId: string; userId?: string }) {
  const [tenant] = await database.db.select({ id: tables.tenants.id }).from(tables.tenants).where(eq(tables.tenants.id, tenantId));
  if (!tenant) throw new SomaError('TENANT_NOT_FOUND', `tenant ${tenantId} not found`);
  const apiKey = newApiKey();
  const user = userId ?? `user_${randomBytes(6).toString('hex')}`;
  await database.db.insert(tables.apiKeys).values({ id: randomUUID(), tenantId, userId: user, hash: sha256Hex(apiKey) });
  return { api_key: apiKey, user_id: user };
}

export async function revokeApiKey({ database, apiKey }: { database: Database; apiKey: string }): Promise<boolean> {
  const rows = await database.db
    .update(tables.apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(tables.apiKeys.hash, sha256Hex(apiKey)), isNull(tables.apiKeys.revokedAt)))
    .returning({ id: tables.apiKeys.id });
  return rows.length > 0;
}

/** Resolves an API key to its tenant and user; unknown or revoked keys are UNAUTHORIZED. */
export async function authenticate({ database, apiKey }: { database: Database; apiKey: string }): Promise<Caller> {
  const [row] = await database.db
    .select({ tenantId: tables.apiKeys.tenantId, userId: tables.apiKeys.userId, revokedAt: tables.apiKeys.revokedAt })
    .from(tables.apiKeys)
    .where(eq(tables.apiKeys.hash, sha256Hex(apiKey)));
  if (!row || row.revokedAt) throw new SomaError('UNAUTHORIZED', 'invalid or revoked API key');
  return { tenantId: row.tenantId, userId: row.userId };
}
