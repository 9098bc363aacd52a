import { describe } from 'vitest';
import { openDatabase } from '../../src/adapters/store/index.js';
import { services, skipWithout } from '../support/services.js';
import { describeOutboxRelayContract } from './relay.contract.js';
import { createScratchDatabase } from './relay-kafka.js';

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
