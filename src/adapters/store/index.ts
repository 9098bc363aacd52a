export * from './database.js';
export * as tables from './schema.js';
export { createDrizzleStore } from './drizzle-store.js';
