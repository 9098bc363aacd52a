import { and, eq, isNull, sql } from 'drizzle-orm';
import type { ApiKeyRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { apiKeys } from '../schema.js';

export function apiKeyRepository(db: Executor): ApiKeyRepository {
  return {
    async insert(key) {
      await db.insert(apiKeys).values(key);
    },
    async findByHash(hash) {
      const [row] = await db
        .select({ id: apiKeys.id, tenantId: apiKeys.tenantId, userId: apiKeys.userId, admin: apiKeys.admin, revokedAt: apiKeys.revokedAt })
        .from(apiKeys)
        .where(eq(apiKeys.hash, hash));
      return row;
    },
    async revokeByHash(hash, at) {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: at })
        .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      return rows.length > 0;
    },
    async revokeById(id, at) {
      const rows = await db
        .update(apiKeys)
        .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${at.toISOString()}::timestamptz)` })
        .where(eq(apiKeys.id, id))
        .returning({ id: apiKeys.id });
      return rows.length > 0;
    },
  };
}
