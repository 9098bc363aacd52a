import { sql } from 'drizzle-orm';
import type { Repositories, Store } from '../../ports/store.js';
import type { Database, Tx } from './database.js';
import { mapDatabaseFaults, sqlStateOf, withDatabaseFaults } from './database-faults.js';
import { keyedSerial } from '../../shared/keyed-serial.js';
import { repositoriesOf } from './repositories/index.js';
import { nothingMatched, statementOf, StatementBatch } from './statement-batch.js';

/** Every repository of `repositories` with an unreachable database reported as `DATABASE_UNAVAILABLE`. */
function guarded(repositories: Repositories): Repositories {
  return Object.fromEntries(Object.entries(repositories).map(([name, repository]) => [name, withDatabaseFaults(repository as object)])) as unknown as Repositories;
}

/**
 * The Store port over Drizzle, for both drivers (PGlite and node-postgres): the SQL is written once in
 * `repositories/`; the driver only connects, executes and runs the transaction. A database that cannot
 * be reached surfaces as `SomaError('DATABASE_UNAVAILABLE')` from every call.
 */
export function createDrizzleStore(database: Database): Store {
  const grouped = statementGroups(database);
  return {
    ...guarded(repositoriesOf(database.db)),
    transaction: (work) => mapDatabaseFaults(() => database.db.transaction((tx) => work(repositoriesOf(tx)))),
    joinTransaction: (handle) => (handle instanceof StatementBatch ? handle.repositories : guarded(repositoriesOf(handle as Tx))),
    oneStatement: (work, options) => (options?.group === undefined ? alone(database, work) : grouped(options.group, work)),
    ping: () => mapDatabaseFaults(async () => void (await database.db.execute(sql`select 1`))),
  };
}

/** `work`'s writes as one statement of their own: undefined when a conditional write matched no row (nothing written). */
async function alone<T>(database: Database, work: (tx: Repositories) => Promise<T>): Promise<T | undefined> {
  const batch = new StatementBatch(database.db);
  const value = await work(batch.repositories);
  try {
    await mapDatabaseFaults(() => database.run(statementOf(batch)));
  } catch (error) {
    if (nothingMatched(error)) return undefined;
    throw error;
  }
  return value;
}

/** A statement error after which nothing of it is written: a deadlock, a serialization failure, a constraint (SQLSTATE class 23). */
function rolledBack(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state === '40P01' || state === '40001' || (state?.startsWith('23') ?? false);
}

/** The most calls one grouped statement carries. */
const GROUP_LIMIT = 32;

interface GroupedCall {
  work: (tx: Repositories) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commits of `oneStatement(work, { group })`: per group, one statement at a time; the calls made
 * while it runs gather for the next (at most {@link GROUP_LIMIT}). A lone call is written as it would
 * be alone. A group's statement aborted by a conditional write (one caller's row matched nothing)
 * writes nothing, and each call is then written alone, in order; a fault fails every call of it (its
 * outcome is not known: writing them again could write them twice).
 */
function statementGroups(database: Database) {
  const gathering = new Map<string, GroupedCall[]>();
  const serial = keyedSerial();

  async function write(calls: GroupedCall[]): Promise<void> {
    if (calls.length === 1) {
      const [call] = calls as [GroupedCall];
      return alone(database, call.work).then(call.resolve, call.reject);
    }
    // Every call's writes into one batch; a call whose own work fails fails alone, and the batch is collected again without it.
    let collected = calls;
    let batch = new StatementBatch(database.db);
    const values: unknown[] = [];
    for (let i = 0; i < collected.length; ) {
      try {
        values.push(await collected[i]!.work(batch.repositories));
        i += 1;
      } catch (error) {
        collected[i]!.reject(error);
        collected = collected.filter((_, j) => j !== i);
        batch = new StatementBatch(database.db);
        values.length = 0;
        i = 0;
      }
    }
    if (collected.length === 0) return;
    try {
      await mapDatabaseFaults(() => database.run(statementOf(batch)));
    } catch (error) {
      // Certainly rolled back (a conditional write, a deadlock or serialization failure, a constraint of
      // one call): each call alone. A fault whose outcome is unknown fails them all (no call twice).
      if (!(nothingMatched(error) || rolledBack(error))) return collected.forEach((call) => call.reject(error));
      for (const call of collected) await alone(database, call.work).then(call.resolve, call.reject);
      return;
    }
    collected.forEach((call, i) => call.resolve(values[i]));
  }

  return <T>(group: string, work: (tx: Repositories) => Promise<T>): Promise<T | undefined> =>
    new Promise<T | undefined>((resolve, reject) => {
      const call: GroupedCall = { work, resolve: resolve as (value: unknown) => void, reject };
      const waiting = gathering.get(group);
      if (waiting && waiting.length < GROUP_LIMIT) return void waiting.push(call);
      const calls = [call];
      gathering.set(group, calls);
      void serial(group, async () => {
        if (gathering.get(group) === calls) gathering.delete(group);
        await write(calls).catch((error: unknown) => calls.forEach((c) => c.reject(error)));
      });
    });
}

