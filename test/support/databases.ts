import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/adapters/store/index.js';
import { services } from './services.js';

export type Driver = 'pglite' | 'postgres';

/**
 * A new, empty database named `<prefix>_<random>` on the PostgreSQL server of `baseUrl`: its URL, and
 * how to drop it (forcing its connections off). Used by the tests and the benchmarks.
 */
export async function createPostgresDatabase(baseUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * A fresh, migrated database for one test file: in-memory PGlite, or a new PostgreSQL database
 * (created on the server of `SOMA_TEST_DATABASE_URL`, dropped by `drop()`).
 */
export async function freshDatabase(driver: Driver): Promise<{ database: Database; url?: string; drop: () => Promise<void> }> {
  if (driver === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://' });
    await database.migrate();
    return { database, drop: () => database.close() };
  }
  const baseUrl = services.databaseUrl;
  if (!baseUrl) throw new Error('SOMA_TEST_DATABASE_URL is not set');
  const created = await createPostgresDatabase(baseUrl, 'soma_t');
  const database = await openDatabase({ databaseUrl: created.url });
  await database.migrate();
  return {
    database,
    url: created.url,
    drop: async () => {
      await database.close();
      await created.drop();
    },
  };
}

/** The drivers a storage test runs against: PGlite always, PostgreSQL when configured (required in CI). */
export function drivers(): Driver[] {
  return services.databaseUrl || process.env.SOMA_TEST_REQUIRE_SERVICES === '1' ? ['pglite', 'postgres'] : ['pglite'];
}
