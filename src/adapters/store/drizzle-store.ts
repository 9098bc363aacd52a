import { sql } from 'drizzle-orm';
import type { Repositories, Store } from '../../ports/store.js';
import type { Database, Tx } from './database.js';
import { mapDatabaseFaults, withDatabaseFaults } from './database-faults.js';
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
  return {
    ...guarded(repositoriesOf(database.db)),
    transaction: (work) => mapDatabaseFaults(() => database.db.transaction((tx) => work(repositoriesOf(tx)))),
    joinTransaction: (handle) => (handle instanceof StatementBatch ? handle.repositories : guarded(repositoriesOf(handle as Tx))),
    oneStatement: async (work) => {
      const batch = new StatementBatch(database.db);
      const value = await work(batch.repositories);
      try {
        await mapDatabaseFaults(() => database.run(statementOf(batch)));
      } catch (error) {
        if (nothingMatched(error)) return undefined;
        throw error;
      }
      return value;
    },
    ping: () => mapDatabaseFaults(async () => void (await database.db.execute(sql`select 1`))),
  };
}
