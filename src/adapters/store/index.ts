export * from './database.js';
export * as tables from './schema.js';
export { createDrizzleStore } from './drizzle-store.js';
export { learningSourceOf } from './repositories/index.js';
export { asDatabaseFault, FOREIGN_KEY_VIOLATION, sqlStateOf } from './database-faults.js';
export { nothingMatched, statementOf, StatementBatch, type FixedClause } from './statement-batch.js';
