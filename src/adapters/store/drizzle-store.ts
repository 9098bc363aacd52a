import type { Store } from '../../ports/store.js';
import type { Database, Tx } from './database.js';
import { repositoriesOf } from './repositories/index.js';

/**
 * The Store port over Drizzle, for both drivers (PGlite and node-postgres): the SQL is written once in
 * `repositories/`; the driver only connects, executes and runs the transaction.
 */
export function createDrizzleStore(database: Database): Store {
  return {
    ...repositoriesOf(database.db),
    transaction: (work) => database.db.transaction((tx) => work(repositoriesOf(tx))),
    joinTransaction: (handle) => repositoriesOf(handle as Tx),
  };
}
