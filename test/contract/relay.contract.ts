import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createKafkaPublisher,
  createOutboxRelay,
  PublishError,
  THIRTY_DAYS_MS,
  type EventPublisher,
  type KafkaPublisher,
  type OutboxRelay,
  type RelayMetrics,
} from '../../src/adapters/relay/index.js';
import { cryptoIdSource } from '../../src/adapters/ids/index.js';
import { createDrizzleStore, type Database } from '../../src/adapters/store/index.js';
import { recordEvent, type EventEnvelope } from '../../src/app/events.js';
import { systemClock } from '../../src/ports/clock.js';
import { services } from '../support/services.js';
import { collect, describeTopic, kafkaScriptCommand, ownsBroker, uniqueEventIds, uniqueName, waitFor } from './relay-kafka.js';

export interface RelayTarget {
  /** Opens a (new) handle on this suite's database; migrations already ran. */
  open(): Promise<Database>;
  /** Environment that makes `relay-child-process.ts` open the same database. */
  childEnv: Record<string, string>;
  /** PGlite: one process at a time, so the suite closes its handle while the child runs. */
  exclusive: boolean;
  teardown(): Promise<void>;
}

const childScript = fileURLToPath(new URL('./relay-child-process.ts', import.meta.url));

/**
 * The outbox relay against a real broker (SPEC §7, §11), run on every database driver: every
 * committed event reaches Kafka at least once — through broker outages, crashes of the relay and
 * several relays at once — and consumers that dedupe by `event_id` see each event exactly once.
 */
export function describeOutboxRelayContract({
  label,
  setup,
  concurrentRelays,
}: {
  label: string;
  setup: () => Promise<RelayTarget>;
  /** Run the two-relays-at-once test (PostgreSQL: several `soma serve` processes share one database). */
  concurrentRelays: boolean;
}): void {
  describe(`outbox relay → Kafka: ${label}`, () => {
    const brokers = services.kafkaBrokers!;
    let target: RelayTarget;
    let database: Database;
    const publishers: KafkaPublisher[] = [];
    const relays: OutboxRelay[] = [];

    const newPublisher = () => {
      const publisher = createKafkaPublisher({ brokers, clientId: uniqueName('relay-test') });
      publishers.push(publisher);
      return publisher;
    };
    const newTopic = async (publisher: KafkaPublisher) => {
      const topic = uniqueName('relay-test');
      await publisher.ensureTopic(topic, { partitions: 3 });
      return topic;
    };
    const track = (relay: OutboxRelay) => {
      relays.push(relay);
      return relay;
    };

    beforeAll(async () => {
      target = await setup();
      database = await target.open();
    });
    beforeEach(async () => {
      await database.query(sql`DELETE FROM outbox_messages`);
    });
    afterAll(async () => {
      await Promise.all(relays.map((relay) => relay.stop()));
      await Promise.all(publishers.map((publisher) => publisher.close()));
      await database?.close();
      await target?.teardown();
    });

    /** Writes `count` iteration events spread over `tenants`, a few per transaction, like turns do. */
    async function writeEvents(count: number, tenants = [randomUUID(), randomUUID(), randomUUID()], payload: (index: number) => Record<string, unknown> = (index) => ({ index })) {
      const envelopes: EventEnvelope[] = [];
      const turns = tenants.map(() => randomUUID());
      for (let start = 0; start < count; start += 20) {
        await createDrizzleStore(database).transaction(async (tx) => {
          for (let index = start; index < Math.min(count, start + 20); index += 1) {
            const slot = index % tenants.length;
            envelopes.push(
              await recordEvent(tx, { ids: cryptoIdSource, clock: systemClock }, {
                eventType: 'chat.iteration_completed',
                tenantId: tenants[slot]!,
                turnId: turns[slot]!,
                iteration: index,
                payload: payload(index),
              }),
            );
          }
        });
      }
      return envelopes;
    }

    const countByStatus = async () => {
      const rows = await database.query<{ status: string; count: number }>(sql`SELECT status, count(*)::int AS count FROM outbox_messages GROUP BY status`);
      return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)])) as Record<string, number>;
    };

    function recordingMetrics() {
      const seen = { pending: [] as number[], dead: 0, lags: [] as number[], published: 0 };
      const sink: RelayMetrics = {
        setPending: (count) => seen.pending.push(count),
        countDead: (count) => (seen.dead += count),
        observeLag: (seconds) => seen.lags.push(seconds),
        countPublished: (count) => (seen.published += count),
      };
      return { seen, sink };
    }

    it('publishes exactly the events written, keyed by tenant id, with idempotency headers, in order per tenant', async () => {
      const publisher = newPublisher();
      const topic = await newTopic(publisher);
      const written = await writeEvents(60);
      const { seen, sink } = recordingMetrics();
      const relay = track(createOutboxRelay({ database, publisher, topic, batchSize: 25, metrics: sink }));

      const runs = [await relay.runOnce(), await relay.runOnce(), await relay.runOnce(), await relay.runOnce()];
      expect(runs.map((run) => run.published)).toEqual([25, 25, 10, 0]);

      const received = await collect({ brokers, topic, until: (messages) => messages.length >= 60, settleMs: 500 });
      expect(received).toHaveLength(60);
      const byId = new Map(written.map((envelope) => [envelope.event_id, envelope]));
      expect(uniqueEventIds(received)).toEqual(new Set(byId.keys()));
      for (const message of received) {
        const envelope = byId.get(message.headers.event_id!)!;
        expect(message.key).toBe(envelope.tenant_id);
        expect(JSON.parse(message.value)).toEqual(envelope);
        expect(message.headers).toMatchObject({
          idempotency_key: `chat.iteration_completed:${envelope.turn_id}:${(envelope.payload as { index: number }).index}`,
          event_type: 'chat.iteration_completed',
          event_id: envelope.event_id,
        });
      }
      for (const tenant of new Set(written.map((envelope) => envelope.tenant_id))) {
        const mine = received.filter((message) => message.key === tenant);
        expect(new Set(mine.map((message) => message.partition)).size).toBe(1);
        const inOffsetOrder = [...mine].sort((a, b) => Number(a.offset - b.offset)).map((message) => message.headers.event_id);
        expect(inOffsetOrder).toEqual(written.filter((envelope) => envelope.tenant_id === tenant).map((envelope) => envelope.event_id));
      }

      expect(await countByStatus()).toEqual({ published: 60 });
      const [stamps] = await database.query<{ missing: number }>(sql`SELECT count(*)::int AS missing FROM outbox_messages WHERE published_at IS NULL OR published_at < created_at`);
      expect(Number(stamps!.missing)).toBe(0);
      expect(seen.published).toBe(60);
      expect(seen.lags).toHaveLength(60);
      expect(seen.lags.every((lag) => lag >= 0 && lag < 60)).toBe(true);
      expect(seen.pending.at(-1)).toBe(0);
    });

    it("publishes one turn's events in the order they were written, also when a batch failed and the later ones were due first", async () => {
      const kafka = newPublisher();
      const topic = await newTopic(kafka);
      let failures = 1;
      const flaky: EventPublisher = {
        publishBatch: async (messages) => {
          if (failures-- > 0) throw new PublishError('broker not reachable (test)', { transient: true });
          await kafka.publishBatch(messages);
        },
        close: () => kafka.close(),
      };
      const tenant = randomUUID();
      const turnId = randomUUID();
      const written: EventEnvelope[] = [];
      const store = createDrizzleStore(database);
      const writeOne = async (iteration: number) =>
        store.transaction(async (tx) => void written.push(await recordEvent(tx, { ids: cryptoIdSource, clock: systemClock }, { eventType: 'chat.iteration_completed', tenantId: tenant, turnId, iteration, payload: { iteration } })));
      for (let k = 0; k < 3; k++) await writeOne(k);
      const relay = track(createOutboxRelay({ database, publisher: flaky, topic, batchSize: 3, backoff: { baseMs: 150, maxMs: 150 } }));
      expect((await relay.runOnce()).failed).toBe(3);
      // Written after the failure: due before the failed ones come back.
      for (let k = 3; k < 6; k++) await writeOne(k);
      expect((await relay.runOnce()).published).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      let published = 0;
      for (let i = 0; i < 10 && published < 6; i++) published += (await relay.runOnce()).published;
      expect(published).toBe(6);
      const received = await collect({ brokers, topic, until: (messages) => messages.length >= 6, settleMs: 300 });
      const inOffsetOrder = [...received].sort((a, b) => Number(a.offset - b.offset)).map((message) => message.headers.event_id);
      expect(inOffsetOrder).toEqual(written.map((envelope) => envelope.event_id));
    });

    it('creates its topic once with 3 partitions and 30 days of retention', async () => {
      const publisher = newPublisher();
      const topic = uniqueName('relay-test-ensure');
      await publisher.ensureTopic(topic, { partitions: 3, retentionMs: THIRTY_DAYS_MS });
      await publisher.ensureTopic(topic, { partitions: 5, retentionMs: 1_000 });
      expect(await describeTopic(brokers, topic)).toEqual({ partitions: 3, retentionMs: String(30 * 24 * 3_600_000) });
    });

    it('does not block writers while a batch is waiting for Kafka', async () => {
      const kafka = newPublisher();
      const topic = await newTopic(kafka);
      await writeEvents(10);
      let publishing!: () => void;
      const started = new Promise<void>((resolve) => (publishing = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const slow: EventPublisher = {
        publishBatch: async (messages) => {
          publishing();
          await released;
          await kafka.publishBatch(messages);
        },
        close: async () => undefined,
      };
      const relay = createOutboxRelay({ database, publisher: slow, topic });
      const run = relay.runOnce();
      await started;
      const write = writeEvents(5).then(() => 'written');
      const outcome = await Promise.race([write, new Promise((resolve) => setTimeout(() => resolve('blocked'), 5_000))]);
      release();
      expect(outcome).toBe('written');
      expect((await run).published).toBe(10);
      await write;
      expect(await countByStatus()).toEqual({ published: 10, pending: 5 });
    });

    it('finishes the in-flight batch when stopped', async () => {
      const kafka = newPublisher();
      const topic = await newTopic(kafka);
      await writeEvents(40);
      let publishing!: () => void;
      const started = new Promise<void>((resolve) => (publishing = resolve));
      const slow: EventPublisher = {
        publishBatch: async (messages) => {
          publishing();
          await new Promise((resolve) => setTimeout(resolve, 500));
          await kafka.publishBatch(messages);
        },
        close: async () => undefined,
      };
      const relay = track(createOutboxRelay({ database, publisher: slow, topic }));
      relay.start();
      await started;
      await relay.stop();
      expect(relay.running).toBe(false);
      expect(await countByStatus()).toEqual({ published: 40 });
    });

    it('retries a row Kafka rejects with backoff and marks it dead after 5 attempts; the rows beside it go through', async () => {
      const publisher = newPublisher();
      const topic = await newTopic(publisher);
      // The middle event is larger than the broker's message.max.bytes (1 MiB by default).
      const written = await writeEvents(3, [randomUUID()], (index) => (index === 1 ? { blob: 'x'.repeat(1_500_000) } : { index }));
      let now = Date.now();
      const { seen, sink } = recordingMetrics();
      const relay = createOutboxRelay({
        database,
        publisher,
        topic,
        clock: { now: () => now },
        backoff: { baseMs: 1_000, maxMs: 10_000 },
        metrics: sink,
      });
      const attemptsOf = async () => {
        const [row] = await database.query<{ attempts: number; status: string; last_error: string | null; wait_ms: number }>(
          sql`SELECT attempts, status, last_error, extract(epoch from next_retry_at) * 1000 - ${now} AS wait_ms FROM outbox_messages WHERE id = ${written[1]!.event_id}`,
        );
        return { ...row!, wait_ms: Math.round(Number(row!.wait_ms)) };
      };

      expect(await relay.runOnce()).toMatchObject({ claimed: 3, published: 2, failed: 1, dead: 0, transientFailure: false });
      expect(await attemptsOf()).toMatchObject({ attempts: 1, status: 'pending', wait_ms: 1_000 });
      expect((await relay.runOnce()).claimed).toBe(0); // still backing off

      const waits: number[] = [];
      for (let attempt = 2; attempt <= 5; attempt += 1) {
        now += 20_000;
        const result = await relay.runOnce();
        expect(result).toMatchObject({ claimed: 1, failed: 1, dead: attempt === 5 ? 1 : 0 });
        waits.push((await attemptsOf()).wait_ms);
      }
      expect(waits.slice(0, 3)).toEqual([2_000, 4_000, 8_000]);
      const dead = await attemptsOf();
      expect(dead).toMatchObject({ attempts: 5, status: 'dead' });
      expect(dead.last_error).toMatch(/MESSAGE_TOO_LARGE/);
      now += 60_000;
      expect((await relay.runOnce()).claimed).toBe(0);
      expect(seen.dead).toBe(1);
      expect(await countByStatus()).toEqual({ published: 2, dead: 1 });

      const received = await collect({ brokers, topic, until: (messages) => messages.length >= 2, settleMs: 500 });
      expect(uniqueEventIds(received)).toEqual(new Set([written[0]!.event_id, written[2]!.event_id]));
    });

    it('a relay process killed with SIGKILL mid-batch loses nothing', async () => {
      const publisher = newPublisher();
      const topic = await newTopic(publisher);
      const written = await writeEvents(300);
      if (target.exclusive) await database.close();

      const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
        env: { ...process.env, ...target.childEnv, RELAY_BROKERS: brokers, RELAY_TOPIC: topic, RELAY_BATCH_SIZE: '100', RELAY_HANG_AFTER: '2' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += String(chunk)));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
      const acked: string[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        acked.push(line);
        // Batch 2 is in Kafka but its rows are not marked yet: kill the relay right there.
        if (line.startsWith('acked 2 ')) child.kill('SIGKILL');
      }
      expect(await exited, stderr).toBe('SIGKILL');
      expect(acked).toEqual(['acked 1 100', 'acked 2 100']);

      if (target.exclusive) database = await target.open();
      expect(await countByStatus()).toEqual({ published: 100, pending: 200 });

      // A new relay, later than the crashed relay's lease.
      const relay = createOutboxRelay({ database, publisher, topic, clock: { now: () => Date.now() + 61_000 } });
      await waitFor(
        async () => {
          await relay.runOnce();
          return (await countByStatus()).published === 300;
        },
        { what: 'the outbox to drain after the crash' },
      );

      const received = await collect({ brokers, topic, until: (messages) => uniqueEventIds(messages).size >= 300, settleMs: 1_000 });
      expect(uniqueEventIds(received)).toEqual(new Set(written.map((envelope) => envelope.event_id)));
      // At-least-once: the batch Kafka had when the relay died arrives twice, nothing else does.
      expect(received.length - 300).toBe(100);
    }, 120_000);

    // Stopping the broker only makes sense for the one scripts/kafka.sh runs.
    describe.skipIf(!ownsBroker(brokers))('Kafka outage', () => {
      afterAll(async () => {
        await kafkaScriptCommand('start');
      }, 180_000);

      it('events written while the broker is down all arrive after it restarts, retried with backoff', async () => {
        const publisher = newPublisher();
        const topic = await newTopic(publisher);
        const { seen, sink } = recordingMetrics();
        const relay = track(
          createOutboxRelay({ database, publisher, topic, batchSize: 50, backoff: { baseMs: 200, maxMs: 2_000 }, metrics: sink, pendingRefreshMs: 0 }),
        );
        const written = await writeEvents(20);
        relay.start();
        await waitFor(async () => (await countByStatus()).published === 20, { what: 'the first events before the outage' });

        await kafkaScriptCommand('stop');
        written.push(...(await writeEvents(130)));
        const retried = await waitFor(
          async () => {
            const [row] = await database.query<{ max: number | null }>(sql`SELECT max(attempts)::int AS max FROM outbox_messages WHERE status = 'pending'`);
            return Number(row?.max ?? 0) >= 2 && Number(row?.max);
          },
          { what: 'the relay to retry during the outage', timeoutMs: 60_000 },
        );
        expect(retried).toBeGreaterThanOrEqual(2);
        expect((await countByStatus()).pending).toBe(130);

        await kafkaScriptCommand('start');
        await waitFor(async () => (await countByStatus()).published === 150, { what: 'the relay to catch up after the outage', timeoutMs: 90_000 });
        await relay.stop();

        const [failures] = await database.query<{ retried: number; with_error: number }>(
          sql`SELECT count(*) FILTER (WHERE attempts > 0)::int AS retried, count(last_error)::int AS with_error FROM outbox_messages`,
        );
        expect(Number(failures!.retried)).toBeGreaterThan(0);
        expect(Number(failures!.with_error)).toBe(Number(failures!.retried));
        expect(seen.dead).toBe(0);
        expect(seen.pending).toContain(130);
        expect(seen.pending.at(-1)).toBe(0);

        const received = await collect({ brokers, topic, until: (messages) => uniqueEventIds(messages).size >= 150, timeoutMs: 90_000 });
        expect(uniqueEventIds(received)).toEqual(new Set(written.map((envelope) => envelope.event_id)));
      }, 240_000);
    });

    describe.skipIf(!concurrentRelays)('several relays', () => {
      it('two relays at once publish every row exactly once between them', async () => {
        const topicPublisher = newPublisher();
        const topic = await newTopic(topicPublisher);
        // 200 turns of 10 events: one turn's events go out in order, so only rows of different turns
        // can be published by two relays at the same moment.
        const written = await writeEvents(2_000, Array.from({ length: 200 }, () => randomUUID()));
        const runs = [recordingMetrics(), recordingMetrics()];
        // Each relay's first batch waits until the other relay holds a batch too, so the test sees two
        // relays working the outbox at the same moment (without it, the relay that connects first can
        // drain all 2,000 rows before the other one's first poll). A relay whose poll could not skip
        // the other's locked rows would never get a batch: the gate then opens after 10 s and the
        // assertions below fail.
        let arrived = 0;
        let open!: () => void;
        const bothHoldABatch = new Promise<void>((resolve) => (open = resolve));
        const timer = setTimeout(() => open(), 10_000);
        const gated = (publisher: EventPublisher): EventPublisher => {
          let first = true;
          return {
            async publishBatch(messages) {
              if (first) {
                first = false;
                if (++arrived === 2) open();
                await bothHoldABatch;
              }
              return publisher.publishBatch(messages);
            },
            close: () => publisher.close(),
          };
        };
        for (const { sink } of runs) {
          track(createOutboxRelay({ database, publisher: gated(newPublisher()), topic, batchSize: 100, pollIntervalMs: 10, metrics: sink })).start();
        }
        await bothHoldABatch;
        clearTimeout(timer);
        expect(arrived).toBe(2);
        await waitFor(async () => (await countByStatus()).published === 2_000, { what: 'both relays to drain the outbox' });
        await Promise.all(relays.map((relay) => relay.stop()));

        expect(runs.map(({ seen }) => seen.published).reduce((a, b) => a + b)).toBe(2_000);
        expect(runs.every(({ seen }) => seen.published > 0)).toBe(true);
        const received = await collect({ brokers, topic, until: (messages) => messages.length >= 2_000, settleMs: 1_000 });
        expect(received).toHaveLength(2_000);
        expect(uniqueEventIds(received)).toEqual(new Set(written.map((envelope) => envelope.event_id)));
      }, 120_000);
    });
  });
}
