import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/store/index.js';
import { services, skipWithout } from '../support/services.js';
import { describeOutboxRelayContract } from './relay.contract.js';
import { collect, kafkaScriptCommand, ownsBroker, uniqueEventIds, uniqueName } from './relay-kafka.js';
import { createKafkaPublisher, createOutboxRelay } from '../../src/adapters/relay/index.js';
import { createPostgresDatabase, drivers } from '../support/databases.js';
import { ADMIN_TOKEN, spawnServer, startTestSoma } from '../support/soma.js';

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
      const scratch = await createPostgresDatabase(services.databaseUrl!, 'soma_relay');
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

describe.skipIf(skipWithout('kafkaBrokers'))('chat turns → Kafka through the relay', () => {
  for (const driver of drivers()) {
    it(`every iteration and every turn reaches Kafka once, keyed by tenant — also across a broker outage (${driver})`, async () => {
      const brokers = services.kafkaBrokers!;
      const topic = uniqueName('turns');
      const t = await startTestSoma({
        driver,
        script: { turns: [{ iterations: [{ text: 'draft', confidence: 0.4 }, { text: 'final draft', confidence: 0.9, final: true }] }] },
        // 105 turns of one tenant in well under a minute: above the default quota of 60 a minute.
        env: { SOMA_TENANT_TURNS_PER_MINUTE: '0' },
      });
      const publisher = createKafkaPublisher({ brokers });
      await publisher.ensureTopic(topic);
      const relay = createOutboxRelay({ database: t.soma.database, publisher, topic, pollIntervalMs: 50, backoff: { baseMs: 200, maxMs: 1_000 } });
      relay.start();
      try {
        const tenant = await t.tenant();
        const key = tenant.api_key;
        const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'k', system_prompt: 's' } })).json()) as { id: string };
        const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
        const turn = async (i: number) =>
          (await (await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: `q${i}` } })).json()) as { turn_id: string; iterations: number };

        const turns = [];
        for (let i = 0; i < 5; i++) turns.push(await turn(i));
        const outage = ownsBroker(brokers);
        if (outage) {
          await kafkaScriptCommand('stop');
          for (let i = 0; i < 100; i++) turns.push(await turn(100 + i));
          await kafkaScriptCommand('start');
        }
        const expected = turns.reduce((sum, x) => sum + x.iterations + 2, 0); // turn_started + iterations + turn_complete
        const chat = <M extends { headers: Record<string, string> }>(m: M[]) => m.filter((x) => x.headers.event_type?.startsWith('chat.'));
        const messages = chat(await collect({ brokers, topic, until: (m) => uniqueEventIds(chat(m)).size >= expected, timeoutMs: 120_000, settleMs: 500 }));
        const byEvent = new Map(messages.map((m) => [m.headers.event_id, m]));
        expect(byEvent.size).toBe(expected);
        for (const m of byEvent.values()) expect(m.key).toBe(tenant.id);
        for (const x of turns) {
          const ofTurn = [...byEvent.values()].map((m) => JSON.parse(m.value) as { turn_id: string; event_type: string }).filter((e) => e.turn_id === x.turn_id);
          expect(ofTurn.filter((e) => e.event_type === 'chat.iteration_completed')).toHaveLength(x.iterations);
          expect(ofTurn.filter((e) => e.event_type === 'chat.turn_complete')).toHaveLength(1);
        }
        const keys = [...byEvent.values()].map((m) => m.headers.idempotency_key);
        expect(new Set(keys).size).toBe(keys.length);
      } finally {
        await relay.stop();
        await publisher.close();
        await t.close();
      }
    }, 240_000);
  }
});

describe.skipIf(skipWithout('kafkaBrokers'))('soma serve with KAFKA_BROKERS', () => {
  it('relays its events to chat.events from inside the server process', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'soma-serve-kafka-'));
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations: [{ text: 'relayed answer', confidence: 0.9, final: true }] }] }));
    const server = await spawnServer({ ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, KAFKA_BROKERS: services.kafkaBrokers! });
    try {
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const tenant = (await (await fetch(`${server.url}/v1/admin/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'kafka' }) })).json()) as { id: string; api_key: string };
      const headers = { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' };
      const capsule = (await (await fetch(`${server.url}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'k', system_prompt: 's' }) })).json()) as { id: string };
      const conversation = (await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };
      const turn = (await (await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: 'hi' }) })).json()) as { turn_id: string };
      const ofTurn = (m: { value: string }[]) => m.map((x) => JSON.parse(x.value) as { turn_id?: string; event_type: string }).filter((e) => e.turn_id === turn.turn_id);
      const messages = await collect({ brokers: services.kafkaBrokers!, topic: 'chat.events', until: (m) => ofTurn(m).some((e) => e.event_type === 'chat.turn_complete'), timeoutMs: 60_000 });
      expect(ofTurn(messages).map((e) => e.event_type)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete']);
      expect(messages.find((m) => m.value.includes(turn.turn_id))!.key).toBe(tenant.id);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/outbox_published_total [1-9]/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
