import { statfsSync } from 'node:fs';
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
import { currentOwner } from '../../shared/work-owner.js';
import { isConnectionFault } from './database-faults.js';
import { createFairQueue } from './fair-queue.js';
import * as schema from './schema.js';
import { PreparedNames } from './prepared-names.js';
import { ensurePgliteCluster, migrationsFolder, pgliteSettings } from './pglite-cluster.js';

export type Schema = typeof schema;
/** A Drizzle database over either driver: SQL is written once against this type. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
/** Either the database or an open transaction. */
export type Executor = Db | Tx;

/** A statement as its text (parameters `$1…$n`) and their values, as sent to the driver. */
export interface Statement {
  text: string;
  values: unknown[];
}

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Rows of a raw SQL statement. */
  query<T = Record<string, unknown>>(statement: ReturnType<typeof sql>, executor?: Executor): Promise<T[]>;
  /** Rows of a statement already compiled to text (the turn's hot writes, see statement-batch.ts), outside any transaction. */
  run<T = Record<string, unknown>>(statement: Statement): Promise<T[]>;
  /** Runs pending migrations (idempotent; serialised across processes on PostgreSQL). */
  migrate(): Promise<void>;
  /** Cheap liveness probe. */
  ping(): Promise<void>;
  /**
   * The embedded database's stand-in for autovacuum and the checkpointer (PGlite runs neither):
   * `VACUUM (ANALYZE)` of each table that grew by a fifth since it was last vacuumed (or never was),
   * and a `CHECKPOINT` once the WAL outgrows `max_wal_size`. PostgreSQL servers do both themselves.
   */
  upkeep?(): Promise<Upkeep>;
  close(): Promise<void>;
}

const MIGRATION_LOCK = 727_001;

/** What one {@link Database.upkeep} did. */
export interface Upkeep {
  vacuumed: string[];
  checkpointed: boolean;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when absent PGlite is used. */
  databaseUrl?: string;
  /** PGlite data directory (`<SOMA_DATA_DIR>/pglite`); `memory://` for an in-memory database. */
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /** PostgreSQL: prepare each distinct statement text once per connection (default true). */
  preparedStatements?: boolean;
}

/** The configured database: PostgreSQL at `databaseUrl`, else PGlite in `<dataDir>/pglite` (`SOMA_DATA_DIR`). */
export function openConfiguredDatabase({ databaseUrl, dataDir, pgPreparedStatements }: { databaseUrl?: string; dataDir: string; pgPreparedStatements?: boolean }): Promise<Database> {
  return openDatabase({ databaseUrl, dataDir: path.join(dataDir, 'pglite'), preparedStatements: pgPreparedStatements });
}

/** Opens the database (PGlite by default, PostgreSQL with `databaseUrl`) and checks it answers. */
export async function openDatabase({ databaseUrl, dataDir = 'memory://', maxConnections = 20, preparedStatements = true }: OpenDatabaseOptions): Promise<Database> {
  if (databaseUrl) return openPostgres(databaseUrl, maxConnections, preparedStatements);
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
  const fair = fairClient(client);
  const db = drizzlePglite({ client: fair, schema }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    run: async ({ text, values }) => (await fair.query(text, values)).rows as never[],
    query: async (statement, executor = db) => ((await executor.execute(statement)) as unknown as { rows: never[] }).rows,
    migrate: async () => {
      await migratePglite(db as never, { migrationsFolder });
    },
    ping: async () => {
      await client.query('select 1');
    },
    upkeep: () => upkeepPglite(db, dataDir),
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/**
 * PGlite behind a fair queue: every statement outside a transaction, and every transaction whole,
 * is one job of the current owner (the tenant of the request, `system` for background work). One
 * job at a time, owners in turn, each owner's jobs in arrival order — so concurrent tenants share
 * the single connection evenly instead of whoever asks again first winning.
 */
function fairClient(client: PGlite): PGlite {
  const queue = createFairQueue();
  const owner = () => currentOwner() ?? 'system';
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query' || property === 'exec' || property === 'transaction') {
        const method = Reflect.get(target, property, target) as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => queue.run(owner(), () => method.apply(target, args));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A table is maintained once it holds this many pages (1 MB) and has grown by {@link UPKEEP_GROWTH} since. */
const UPKEEP_MIN_PAGES = 128;
const UPKEEP_GROWTH = 1.2;

/**
 * Without statistics the planner guesses: measured after a 10,000-turn soak on PGlite (never
 * analysed), a recall scanned all 10,000 memories of its scope (104 ms) where the full-text index
 * answers in 7 ms once the table is analysed; and without vacuum, rows updated in place (a memory's
 * last recall, a turn's status) leave dead versions that nobody reclaims. Each table's own VACUUM is
 * one job of the fair queue (owner `system`), with a small statistics sample, so tenants' statements
 * interleave with the upkeep; it takes ~0.1–1.4 s on a 50–80 MB table.
 */
async function upkeepPglite(db: Db, dataDir: string): Promise<Upkeep> {
  const vacuumed = await vacuumGrownTables(db);
  // Nothing checkpoints PGlite by itself: its WAL grew to 881 MB over a 10,000-turn soak (in memory
  // for memory://). A checkpoint lets PostgreSQL recycle the segments (tens of ms); not on a nearly
  // full disk, where writing it could fail half-way.
  const [wal] = ((await db.execute(sql`select coalesce(sum(size), 0)::bigint as bytes from pg_ls_waldir()`)) as unknown as { rows: { bytes: number | string }[] }).rows;
  const checkpointed = Number(wal?.bytes ?? 0) > WAL_CHECKPOINT_BYTES && hasRoom(dataDir);
  if (checkpointed) await db.execute(sql`checkpoint`);
  return { vacuumed, checkpointed };
}

/** `max_wal_size` of {@link pgliteSettings}. */
const WAL_CHECKPOINT_BYTES = 128 * 1024 * 1024;
const MIN_FREE_BYTES_FOR_CHECKPOINT = 64 * 1024 * 1024;

function hasRoom(dataDir: string): boolean {
  if (dataDir.startsWith('memory://')) return true;
  try {
    const { bavail, bsize } = statfsSync(dataDir);
    return bavail * bsize >= MIN_FREE_BYTES_FOR_CHECKPOINT;
  } catch {
    return false;
  }
}

async function vacuumGrownTables(db: Db): Promise<string[]> {
  const rows = (await db.execute(sql`
    select c.relname as name, c.relpages as pages_then, c.reltuples as tuples_then, pg_relation_size(c.oid) / 8192 as pages_now
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'`)) as unknown as { rows: { name: string; pages_then: number; tuples_then: number; pages_now: number | string }[] };
  const due = rows.rows.filter((r) => Number(r.pages_now) >= UPKEEP_MIN_PAGES && (Number(r.tuples_then) < 0 || Number(r.pages_now) > Number(r.pages_then) * UPKEEP_GROWTH)).map((r) => r.name);
  if (due.length === 0) return [];
  await db.execute(sql`set default_statistics_target = 10`);
  try {
    for (const table of due) await db.execute(sql.raw(`vacuum (analyze) ${quoteIdentifier(table)}`));
  } finally {
    await db.execute(sql`reset default_statistics_target`);
  }
  return due;
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * pg-pool gives a query its idle connection on the next tick — after every promise job queued by then,
 * so a statement waited for whatever ran next: the turn's recall for the building of the turn's start
 * (≈ 0.3 ms), a capsule's group statement for the next iteration of each turn the previous one
 * answered. Handing the connection over at once (the pool's own hand-over, in its order: the oldest
 * waiting request first) sends the statement when it is asked for; the tick's hand-over then finds
 * nothing waiting. Without that method (another pg-pool) the pool's tick does it, as before.
 */
function sendAtOnce(pool: pg.Pool): void {
  const handOver = (pool as unknown as { _pulseQueue?: () => void })._pulseQueue;
  if (typeof handOver !== 'function') return;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    handOver.call(pool);
    return result;
  };
}

async function openPostgres(url: string, max: number, preparedStatements: boolean): Promise<Database> {
  // Each distinct statement text is parsed and planned once per connection, not on every call.
  const prepared = preparedStatements ? new PreparedNames() : undefined;
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    // Awaited before the pool hands the new connection out (pg-pool's hook), so no query waits in the
    // client's own queue behind it (which pg 8 warns of and pg 9 refuses).
    onConnect: async (client) => {
      // A checked-out client whose connection is cut between two queries (inside a transaction) emits
      // 'error' with no query to fail; unhandled, that would crash the process. Its next query fails.
      client.on('error', () => undefined);
      if (!prepared) return;
      prepared.attach(client as pg.PoolClient);
      // Prepared statements take their generic plan at once, instead of five custom plans per connection
      // and text first: the hot statements are written for it (no parameter whose value would change the
      // plan). A SET before the client's first query, rather than a startup option a pooler in session
      // mode might refuse; where it fails PostgreSQL's default stays.
      await client.query('SET plan_cache_mode = force_generic_plan').catch(() => undefined);
    },
  });
  sendAtOnce(pool);
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
  // Drizzle's pool transaction sends BEGIN before its try/finally, so a connection cut just then
  // never goes back to the pool — and pool.end() then waits for it for ever (seen after an outage).
  // Each transaction here checks its client out and gives it back whatever happens, destroying it
  // when its connection failed; one Drizzle instance per physical connection (no per-call cost).
  const onClient = new WeakMap<pg.PoolClient, Db>();
  const transaction: Db['transaction'] = async (work, config) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      let clientDb = onClient.get(client);
      if (!clientDb) onClient.set(client, (clientDb = drizzleNodePg(client, { schema }) as unknown as Db));
      return await clientDb.transaction(work, config);
    } catch (error) {
      if (isConnectionFault(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  };
  db.transaction = transaction;
  return {
    db,
    driver: 'postgres',
    // A query config (not a string), so the statement gets its prepared name like Drizzle's.
    run: async ({ text, values }) => (await pool.query({ text, values })).rows as never[],
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
