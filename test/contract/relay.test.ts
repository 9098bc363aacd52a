import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { openDatabase } from '../../src/adapters/store/index.js';
import { services, skipWithout } from '../support/services.js';
import { describeOutboxRelayContract } from './relay.contract.js';
import { createScratchDatabase } from './relay-kafka.js';

// One file for both drivers: the outage tests stop the shared broker, so nothing else of this
// suite may run beside them (vitest runs the tests of one file one after another).

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

describe.skipIf(skipWithout('kafkaBrokers') || skipWithout('databaseUrl'))('relay on PostgreSQL', () => {
  describeOutboxRelayContract({
    label: 'PostgreSQL (FOR UPDATE SKIP LOCKED)',
    concurrentRelays: true,
    setup: async () => {
      // A database of its own, so other suites' outbox rows never meet these relays.
      const scratch = await createScratchDatabase(services.databaseUrl!);
      return {
        open: async () => {
          const database = await openDatabase({ databaseUrl: scratch.url });
          await database.migrate();
          return database;
        },
        childEnv: { RELAY_DATABASE_URL: scratch.url },
        exclusive: false,
        teardown: scratch.drop,
      };
    },
  });
});
