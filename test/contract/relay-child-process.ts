/**
 * A relay in its own process, for the SIGKILL test: it relays the outbox of the database named by
 * RELAY_DATABASE_URL or RELAY_DATA_DIR to RELAY_TOPIC, prints `acked <batch> <size>` once Kafka has
 * acknowledged each batch, and after batch RELAY_HANG_AFTER it stops right there — Kafka has the
 * records, the outbox rows are not marked yet — so the parent can kill it at the worst moment.
 */
import { createKafkaPublisher, createOutboxRelay, type EventPublisher } from '../../src/adapters/relay/index.js';
import { openDatabase } from '../../src/adapters/store/index.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const database = await openDatabase({ databaseUrl: process.env.RELAY_DATABASE_URL, dataDir: process.env.RELAY_DATA_DIR });
const kafka = createKafkaPublisher({ brokers: env('RELAY_BROKERS'), clientId: 'relay-child' });
const hangAfter = Number(env('RELAY_HANG_AFTER'));
let batches = 0;
const publisher: EventPublisher = {
  async publishBatch(messages) {
    await kafka.publishBatch(messages);
    batches += 1;
    process.stdout.write(`acked ${batches} ${messages.length}\n`);
    if (batches === hangAfter) await new Promise(() => undefined);
  },
  close: () => kafka.close(),
};
// Keeps the process alive while the relay hangs (PGlite holds no handle of its own).
setInterval(() => undefined, 1_000);
createOutboxRelay({
  database,
  publisher,
  batchSize: Number(env('RELAY_BATCH_SIZE')),
  topic: env('RELAY_TOPIC'),
  leaseMs: 60_000,
}).start();
