import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { openDatabase } from '../../src/adapters/store/index.js';
import { skipWithout } from '../support/services.js';
import { describeOutboxRelayContract } from './relay.contract.js';

describe.skipIf(skipWithout('kafkaBrokers'))('relay on PGlite', () => {
  describeOutboxRelayContract({
    label: 'PGlite (lease claims)',
    concurrentRelays: false,
    setup: async () => {
      // File-backed, so the relay child process can open it after this process lets go.
      const dir = await mkdtemp(path.join(tmpdir(), 'soma-relay-'));
      const dataDir = path.join(dir, 'pglite');
      return {
        open: async () => {
          const database = await openDatabase({ dataDir });
          await database.migrate();
          return database;
        },
        childEnv: { RELAY_DATA_DIR: dataDir },
        exclusive: true,
        teardown: () => rm(dir, { recursive: true, force: true }),
      };
    },
  });
});
