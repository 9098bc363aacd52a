/**
 * Benchmark of the outbox → Kafka relay (SPEC §10): `node --import tsx bench/relay.ts`.
 *
 * For each database — PostgreSQL when `DATABASE_URL` is set (in a scratch database created on that
 * server and dropped afterwards, so no real outbox row is touched), and embedded PGlite — against
 * the broker at `KAFKA_BROKERS` (`scripts/kafka.sh url` prints it after `scripts/kafka.sh start`):
 *
 * 1. Throughput: insert N events (`BENCH_RELAY_EVENTS`, default 50 000) with `recordEvent`, then time
 *    one relay draining them (default batch 500). Bar: ≥ 5 000 events/s.
 * 2. Lag: write events one per transaction at a steady 500/s (`BENCH_RELAY_RATE`) for 20 s
 *    (`BENCH_RELAY_SECONDS`) while the relay runs its normal poll loop; a Kafka consumer records
 *    receive time − the row's `created_at`. Bar: p99 < 1 s.
 *
 * Prints a table and exits non-zero when PostgreSQL misses a bar (PGlite's figures are reported only).
 */
import { randomUUID } from 'node:crypto';
import { execSync } from 'node:child_process';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { sql } from 'drizzle-orm';
import { createKafkaPublisher, createOutboxRelay, type KafkaPublisher } from '../src/adapters/relay/index.js';
import { cryptoIdSource } from '../src/adapters/ids/index.js';
import { createDrizzleStore, openDatabase, type Database } from '../src/adapters/store/index.js';
import { recordEvent, type EventEnvelope, type NewEvent } from '../src/app/events.js';
import { systemClock } from '../src/ports/clock.js';
import { createPostgresDatabase } from '../test/support/databases.js';

/** The product's outbox write (`recordEvent`) on one unit of work of `database`. */
const writeEvent = (tx: Parameters<typeof recordEvent>[0], event: NewEvent) => recordEvent(tx, { ids: cryptoIdSource, clock: systemClock }, event);

const BROKERS = process.env.KAFKA_BROKERS ?? execSync('bash scripts/kafka.sh url', { encoding: 'utf8' }).trim();
const EVENTS = Number(process.env.BENCH_RELAY_EVENTS ?? 50_000);
const RATE = Number(process.env.BENCH_RELAY_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_RELAY_SECONDS ?? 20);
const BATCH_SIZE = Number(process.env.BENCH_RELAY_BATCH ?? 500);
const THROUGHPUT_BAR = 5_000;
const LAG_P99_BAR_MS = 1_000;

interface Row {
  database: string;
  claim: string;
  inserted: number;
  insertPerSecond: number;
  relayPerSecond: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  ackLagP99: number;
  steadyEvents: number;
  /** Events/s the steady writer achieved (target RATE). */
  writeRate: number;
}

const tenants = Array.from({ length: 16 }, () => randomUUID());

/** An iteration event about the size of a real one (weights, neuromodulators, scores). */
function iterationPayload(index: number): Record<string, unknown> {
  return {
    iteration: index % 10,
    confidence: 0.8,
    convergence_score: 0.75,
    exit_reason: 'continue',
    weights: { alpha: 1.02, beta: 0.2, gamma: 0.09, tau: 0.7, lambda: 1.01, mu: 0.1, nu: 0.05 },
    neuromodulators: { dopamine: 0.46, serotonin: 0.53, norepinephrine: 0, acetylcholine: 0.01 },
    latency_ms: 412,
    prompt_tokens: 1830,
    completion_tokens: 212,
    tools_used: ['calculator'],
  };
}

async function insertEvents(database: Database, count: number): Promise<void> {
  const perTransaction = 500;
  for (let start = 0; start < count; start += perTransaction) {
    await createDrizzleStore(database).transaction(async (tx) => {
      const turnId = randomUUID();
      for (let index = start; index < Math.min(count, start + perTransaction); index += 1) {
        await writeEvent(tx, {
          eventType: 'chat.iteration_completed',
          tenantId: tenants[index % tenants.length]!,
          turnId,
          iteration: index,
          payload: iterationPayload(index),
        });
      }
    });
  }
}

const pendingCount = async (database: Database) =>
  Number((await database.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM outbox_messages WHERE status = 'pending'`))[0]?.n ?? 0);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measureThroughput(database: Database, publisher: KafkaPublisher, topic: string): Promise<Pick<Row, 'inserted' | 'insertPerSecond' | 'relayPerSecond' | 'claim'>> {
  const insertStart = performance.now();
  await insertEvents(database, EVENTS);
  const insertSeconds = (performance.now() - insertStart) / 1_000;
  const relay = createOutboxRelay({ database, publisher, topic, batchSize: BATCH_SIZE });
  const start = performance.now();
  let published = 0;
  for (;;) {
    const result = await relay.runOnce();
    if (result.failed > 0) throw new Error(`publishing failed during the throughput run (${result.failed} rows)`);
    published += result.published;
    if (result.claimed === 0) break;
  }
  const seconds = (performance.now() - start) / 1_000;
  if (published !== EVENTS) throw new Error(`relayed ${published} of ${EVENTS} events`);
  return {
    inserted: EVENTS,
    insertPerSecond: EVENTS / insertSeconds,
    relayPerSecond: EVENTS / seconds,
    claim: database.driver === 'pglite' ? 'lease' : 'lock',
  };
}

async function measureLag(database: Database, publisher: KafkaPublisher, topic: string): Promise<Pick<Row, 'lagP50' | 'lagP99' | 'lagMax' | 'ackLagP99' | 'steadyEvents' | 'writeRate'>> {
  const ackLags: number[] = [];
  const relay = createOutboxRelay({
    database,
    publisher,
    topic,
    batchSize: BATCH_SIZE,
    metrics: { setPending: () => undefined, countDead: () => undefined, countPublished: () => undefined, observeLag: (seconds) => ackLags.push(seconds * 1_000) },
  });
  const consumer = new Consumer<string, string, string, string>({
    groupId: `bench-relay-${randomUUID()}`,
    clientId: 'bench-relay-consumer',
    bootstrapBrokers: BROKERS.split(','),
    deserializers: stringDeserializers,
    maxWaitTime: 50,
  });
  const lags: number[] = [];
  let writeSeconds: number | undefined;
  const warmupIds = new Set<string>();
  let warmedUp!: () => void;
  const warm = new Promise<void>((resolve) => (warmedUp = resolve));
  const seen = new Set<string>();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 50 });
  stream.on('data', (message) => {
    const receivedAt = Date.now();
    const envelope = JSON.parse(message.value) as EventEnvelope;
    if (seen.has(envelope.event_id)) return;
    seen.add(envelope.event_id);
    if (warmupIds.has(envelope.event_id)) {
      warmupIds.delete(envelope.event_id);
      if (warmupIds.size === 0) warmedUp();
      return;
    }
    lags.push(receivedAt - Date.parse(envelope.occurred_at));
  });
  relay.start();
  try {
    // Warm-up: the consumer has joined and fetches before the measured events are written.
    await createDrizzleStore(database).transaction(async (tx) => {
      for (let index = 0; index < 10; index += 1) {
        const envelope = await writeEvent(tx, { eventType: 'chat.turn_started', tenantId: tenants[0]!, subject: randomUUID(), payload: {} });
        warmupIds.add(envelope.event_id);
      }
    });
    await Promise.race([warm, sleep(30_000).then(() => Promise.reject(new Error('the consumer did not see the warm-up events in 30 s')))]);
    ackLags.length = 0;

    // Steady writes: one event per transaction, on a schedule that catches up if a write is late.
    // Lag counts from `occurred_at` (= created_at, set as the write starts), so a writer that falls
    // behind its schedule shows as lag too; the achieved write rate is reported beside it.
    const total = RATE * SECONDS;
    const start = performance.now();
    for (let index = 0; index < total; index += 1) {
      const due = start + (index * 1_000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      await writeEvent(createDrizzleStore(database), {
        eventType: 'chat.iteration_completed',
        tenantId: tenants[index % tenants.length]!,
        turnId: randomUUID(),
        iteration: 0,
        payload: iterationPayload(index),
      });
    }
    writeSeconds = (performance.now() - start) / 1_000;
    const deadline = Date.now() + 30_000;
    while (lags.length < total && Date.now() < deadline) await sleep(50);
    if (lags.length < total) throw new Error(`the consumer received ${lags.length} of ${total} steady events`);
  } finally {
    await relay.stop();
    await stream.close();
    await consumer.close(true);
  }
  const sorted = [...lags].sort((a, b) => a - b);
  const sortedAck = [...ackLags].sort((a, b) => a - b);
  return {
    lagP50: percentile(sorted, 50),
    lagP99: percentile(sorted, 99),
    lagMax: sorted.at(-1) ?? Number.NaN,
    ackLagP99: percentile(sortedAck, 99),
    steadyEvents: sorted.length,
    writeRate: writeSeconds ? sorted.length / writeSeconds : Number.NaN,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function scratchPostgres(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  return createPostgresDatabase(url, 'soma_bench_relay');
}

async function benchDatabase(label: string, open: () => Promise<{ database: Database; cleanup: () => Promise<void> }>): Promise<Row> {
  const { database, cleanup } = await open();
  const publisher = createKafkaPublisher({ brokers: BROKERS, clientId: 'bench-relay' });
  try {
    await database.migrate();
    const throughputTopic = `bench-relay-${randomUUID().slice(0, 8)}`;
    const lagTopic = `bench-relay-lag-${randomUUID().slice(0, 8)}`;
    await publisher.ensureTopic(throughputTopic, { partitions: 3 });
    await publisher.ensureTopic(lagTopic, { partitions: 3 });
    process.stderr.write(`[${label}] inserting ${EVENTS} events and relaying them…\n`);
    const throughput = await measureThroughput(database, publisher, throughputTopic);
    if ((await pendingCount(database)) !== 0) throw new Error('rows left pending after the throughput run');
    process.stderr.write(`[${label}] steady ${RATE} events/s for ${SECONDS} s…\n`);
    const lag = await measureLag(database, publisher, lagTopic);
    return { database: label, ...throughput, ...lag };
  } finally {
    await publisher.close();
    await database.close();
    await cleanup();
  }
}

/**
 * The bars gate PostgreSQL: Kafka is the scale-out event bus, which runs beside PostgreSQL. PGlite
 * relaying to Kafka works and is measured, but is reported only.
 */
const gated = (row: Row) => row.database === 'postgres';

async function main(): Promise<void> {
  const rows: Row[] = [];
  if (process.env.DATABASE_URL) {
    rows.push(
      await benchDatabase('postgres', async () => {
        const scratch = await scratchPostgres(process.env.DATABASE_URL!);
        return { database: await openDatabase({ databaseUrl: scratch.url }), cleanup: scratch.drop };
      }),
    );
  } else {
    process.stderr.write('DATABASE_URL is not set: PostgreSQL skipped\n');
  }
  rows.push(
    await benchDatabase('pglite', async () => ({ database: await openDatabase({ dataDir: 'memory://' }), cleanup: async () => undefined })),
  );

  const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const table = [
    ['database', 'claim', 'events', 'insert ev/s', 'relay ev/s', 'steady ev/s', `lag p50 ms`, 'lag p99 ms', 'lag max ms', 'ack lag p99 ms', 'bars'],
    ...rows.map((row) => {
      const ok = row.relayPerSecond >= THROUGHPUT_BAR && row.lagP99 < LAG_P99_BAR_MS;
      return [
        row.database,
        row.claim,
        String(row.inserted),
        fixed(row.insertPerSecond),
        fixed(row.relayPerSecond),
        fixed(row.writeRate),
        fixed(row.lagP50),
        fixed(row.lagP99),
        fixed(row.lagMax),
        fixed(row.ackLagP99),
        gated(row) ? (ok ? 'ok' : 'MISSED') : ok ? 'ok (info)' : 'missed (info)',
      ];
    }),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  console.log(`outbox → Kafka relay (brokers ${BROKERS}; batch ${BATCH_SIZE}; steady ${RATE}/s × ${SECONDS} s; bars: ≥ ${THROUGHPUT_BAR} ev/s, p99 lag < ${LAG_P99_BAR_MS} ms)`);
  for (const line of table) console.log(line.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
  if (rows.some((row) => gated(row) && (row.relayPerSecond < THROUGHPUT_BAR || row.lagP99 >= LAG_P99_BAR_MS))) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`relay benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
