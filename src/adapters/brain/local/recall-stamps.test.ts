import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTenantWithCapsule } from '../../../../test/support/capsules.js';
import { freshDatabase } from '../../../../test/support/databases.js';
import type { Database } from '../../store/index.js';
import { RecallStamps } from './brain-memory.js';

describe('RecallStamps', () => {
  let database: Database;
  let drop: () => Promise<void>;
  const ids = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    ({ database, drop } = await freshDatabase('pglite'));
    const { tenantId, capsuleId } = await insertTenantWithCapsule(database);
    for (const [i, id] of ids.entries()) {
      await database.query(sql`insert into memories (id, tenant_id, capsule_id, user_id, key, content) values (${id}, ${tenantId}, ${capsuleId}, '', ${`k${i}`}, 'some fact')`);
    }
  });
  afterAll(() => drop());

  const stamped = async () =>
    Object.fromEntries(
      (await database.query<{ id: string; at: string | null }>(sql`select id, last_recalled_at::text as at from memories`)).map((row) => [row.id, row.at === null ? null : new Date(row.at).getTime()]),
    );

  it('writes the stamps of the recalls of one interval once, with the latest recall time', async () => {
    const stamps = new RecallStamps(database, 60_000);
    stamps.add([ids[0]!], Date.UTC(2026, 11, 1, 10, 0));
    stamps.add([ids[0]!, ids[1]!], Date.UTC(2026, 11, 1, 10, 5));
    expect(await stamped()).toEqual({ [ids[0]!]: null, [ids[1]!]: null, [ids[2]!]: null });
    await stamps.flush();
    expect(await stamped()).toEqual({ [ids[0]!]: Date.UTC(2026, 11, 1, 10, 5), [ids[1]!]: Date.UTC(2026, 11, 1, 10, 5), [ids[2]!]: null });
  });

  it('flushes by itself after its interval', async () => {
    const stamps = new RecallStamps(database, 20);
    stamps.add([ids[2]!], Date.UTC(2026, 11, 1, 11, 0));
    await expect.poll(async () => (await stamped())[ids[2]!], { timeout: 5_000 }).toBe(Date.UTC(2026, 11, 1, 11, 0));
  });
});
