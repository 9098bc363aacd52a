/**
 * Part of the composition root that the CLI runs before it loads the server's modules: it imports
 * nothing heavy, so the work it starts overlaps the loading of everything else.
 */
import path from 'node:path';
import { ensurePgliteCluster } from './adapters/store/pglite-cluster.js';
import type { Config } from './config.js';

/**
 * Starts creating a new embedded database (initdb and migrations in a child process) when the data
 * folder has none. A failure surfaces from `createSoma`, which awaits the same run.
 */
export function prepareEmbeddedDatabase(config: Pick<Config, 'dataDir'>): void {
  ensurePgliteCluster(path.join(config.dataDir, 'pglite')).catch(() => undefined);
}
