import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { SomaError } from '../../shared/errors.js';
import * as schema from './schema.js';
import { ensurePgliteCluster, migrationsFolder, pgliteSettings } from './pglite-cluster.js';

export type Schema = typeof schema;
/** A Drizzle database over either driver: SQL is written once against this type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
/** Either the database or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Rows of a raw SQL statement. */
  query<T = Record<string, unknown>>(statement: ReturnType<typeof sql>, executor?: Executor): Promise<T[]>;
  /** Runs pending migrations (idempotent; serialised across processes on PostgreSQL). */
  migrate(): Promise<void>;
  /** Cheap liveness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATION_LOCK = 727_001;

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when absent PGlite is used. */
  databaseUrl?: string;
  /** PGlite data directory (`<SOMA_DATA_DIR>/pglite`); `memory://` for an in-memory database. */
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

/** The configured database: PostgreSQL at `databaseUrl`, else PGlite in `<dataDir>/pglite` (`SOMA_DATA_DIR`). */
export function openConfiguredDatabase({ databaseUrl, dataDir }: { databaseUrl?: string; dataDir: string }): Promise<Database> {
  return openDatabase({ databaseUrl, dataDir: path.join(dataDir, 'pglite') });
}

/** Opens the database (PGlite by default, PostgreSQL with `databaseUrl`) and checks it answers. */
export async function openDatabase({ databaseUrl, dataDir = 'memory://', maxConnections = 20 }: OpenDatabaseOptions): Promise<Database> {
  if (databaseUrl) return openPostgres(databaseUrl, maxConnections);
  return openPglite(dataDir);
}

async function openPglite(dataDir: string): Promise<Database> {
  let client: PGlite;
  try {
    if (!dataDir.startsWith('memory://')) await ensurePgliteCluster(dataDir);
    client = await PGlite.create({ dataDir, postgresqlconf: pgliteSettings });
  } catch (cause) {
    throw new SomaError('DATABASE_UNAVAILABLE', `cannot open the embedded database at ${dataDir}: ${(cause as Error).message}`, { cause });
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    query: async (statement, executor = db) => ((await executor.execute(statement)) as unknown as { rows: never[] }).rows,
    migrate: async () => {
      await migratePglite(db as never, { migrationsFolder });
    },
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => {
    /* idle client errors surface on the next query */
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new SomaError('DATABASE_UNAVAILABLE', `cannot reach PostgreSQL at ${redact(url)}: ${(cause as Error).message}`, { cause });
  }
  const db = drizzleNodePg(pool, { schema }) as unknown as Db;
  return {
    db,
    driver: 'postgres',
    query: async (statement, executor = db) => ((await executor.execute(statement)) as unknown as { rows: never[] }).rows,
    migrate: async () => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migrateNodePg(drizzleNodePg(client, { schema }), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        client.release();
      }
    },
    ping: async () => {
      await pool.query('select 1');
    },
    close: async () => {
      await pool.end();
    },
  };
}

/** Hides the password of a connection URL for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured DATABASE_URL';
  }
}
