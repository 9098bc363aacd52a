import { eq } from 'drizzle-orm';
import type { TenantRepository } from '../../../ports/store.js';
import type { Executor } from '../database.js';
import { tenants } from '../schema.js';

export function tenantRepository(db: Executor): TenantRepository {
  return {
    async insert(tenant) {
      await db.insert(tenants).values(tenant);
    },
    async find(id) {
      const [row] = await db.select({ id: tenants.id, name: tenants.name }).from(tenants).where(eq(tenants.id, id));
      return row;
    },
    async hasAny() {
      const [row] = await db.select({ id: tenants.id }).from(tenants).limit(1);
      return row !== undefined;
    },
  };
}
