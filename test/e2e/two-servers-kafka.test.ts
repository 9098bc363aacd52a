import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { collect } from '../contract/relay-kafka.js';
import { freshDatabase } from '../support/databases.js';
import { services, skipWithout } from '../support/services.js';
import { ADMIN_TOKEN, spawnServer } from '../support/soma.js';

/**
 * SPEC §1: several `soma serve` processes share one PostgreSQL and one Kafka. Two servers take
 * concurrent turns on the same capsule; the capsule's learning history stays one linear chain, every
 * event reaches Kafka exactly once (after dedupe — and here, with no process killed, with no
 * duplicate at all), and both relays publish a share of the outbox.
 */

const CLIENTS_PER_SERVER = 4;
const TURNS_PER_CLIENT = 8;

const script = {
  turns: [{ iterations: [{ text: 'A first draft of the answer.', logprobs: [-0.6] }, { text: 'The answer, refined and checked.', logprobs: [-0.02], final: true }] }],
};

const skip = skipWithout('databaseUrl') || skipWithout('kafkaBrokers');

const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
};

describe.skipIf(skip)('two soma serve processes on one PostgreSQL and one Kafka', () => {
  it('share a capsule: one linear learning chain, every event in Kafka once, both relays publishing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-two-'));
    const scriptFile = path.join(dir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify(script));
    const { url, drop } = await freshDatabase('postgres');
    const env = {
      ...process.env,
      DATABASE_URL: url!,
      KAFKA_BROKERS: services.kafkaBrokers!,
      SOMA_MODEL: `scripted:${scriptFile}`,
      SOMA_ADMIN_TOKEN: ADMIN_TOKEN,
      SOMA_TENANT_TURNS_PER_MINUTE: '100000',
    };
    const servers = [await spawnServer({ ...env, SOMA_DATA_DIR: path.join(dir, 'a') }), await spawnServer({ ...env, SOMA_DATA_DIR: path.join(dir, 'b') })];
    const logs = servers.map((server) => {
      const lines: string[] = [];
      server.child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((line) => /"level":(50|60)/.test(line))));
      server.child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
      server.child.once('exit', (code, signal) => lines.push(`exited ${code} ${signal}`));
      return lines;
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const [first, second] = servers as [(typeof servers)[0], (typeof servers)[0]];
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const tenant = (await (await fetch(`${first.url}/v1/admin/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'shared' }) })).json()) as { id: string; api_key: string };
      const headers = { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' };
      const capsule = (await (await fetch(`${first.url}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'shared', system_prompt: 's' }) })).json()) as { id: string };

      // Clients of both servers, each in its own conversation (created first, one at a time), then all
      // of them on the one capsule at once.
      const clients: { server: (typeof servers)[0]; conversation: string }[] = [];
      for (const server of [first, second]) {
        for (let c = 0; c < CLIENTS_PER_SERVER; c++) {
          const conversation = (await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };
          clients.push({ server, conversation: conversation.id });
        }
      }
      const turns = await Promise.all(
        clients.map(async ({ server, conversation }, c) => {
          const statuses: number[] = [];
          for (let n = 0; n < TURNS_PER_CLIENT; n++) {
            const response = await fetch(`${server.url}/v1/conversations/${conversation}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: `client ${c} turn ${n}` }) });
            statuses.push(response.status);
            await response.arrayBuffer();
          }
          return statuses;
        }),
      );
      expect(turns.flat()).toEqual(Array(2 * CLIENTS_PER_SERVER * TURNS_PER_CLIENT).fill(200));

      // One linear chain: seq 1…n without a gap, each row starting from the state the previous one left.
      const { rows: chain } = await client.query<{ seq: string; weights_before: unknown; weights_after: unknown; neuromodulators_before: unknown; neuromodulators_after: unknown }>(
        'select seq, weights_before, weights_after, neuromodulators_before, neuromodulators_after from learning_updates where capsule_id = $1 order by seq',
        [capsule.id],
      );
      expect(chain.length).toBeGreaterThan(2 * CLIENTS_PER_SERVER * TURNS_PER_CLIENT);
      chain.forEach((row, i) => {
        expect(Number(row.seq)).toBe(i + 1);
        if (i > 0) {
          expect(row.weights_before).toEqual(chain[i - 1]!.weights_after);
          expect(row.neuromodulators_before).toEqual(chain[i - 1]!.neuromodulators_after);
        }
      });
      const { rows: turnRows } = await client.query<{ status: string; n: number }>('select status, count(*)::int as n from turns group by status');
      expect(turnRows).toEqual([{ status: 'completed', n: 2 * CLIENTS_PER_SERVER * TURNS_PER_CLIENT }]);

      // Every outbox row of this database reaches Kafka, once.
      const { rows: outbox } = await client.query<{ id: string }>('select id from outbox_messages');
      const ids = new Set(outbox.map((row) => row.id));
      const messages = await collect({
        brokers: services.kafkaBrokers!,
        topic: 'chat.events',
        until: (received) => [...ids].every((id) => received.some((m) => m.headers.event_id === id)),
        timeoutMs: 90_000,
        settleMs: 2_000,
      });
      const ours = messages.filter((m) => ids.has(m.headers.event_id!));
      expect(new Set(ours.map((m) => m.headers.event_id))).toEqual(ids);
      expect(ours).toHaveLength(ids.size);
      const { rows: pending } = await client.query<{ n: number }>("select count(*)::int as n from outbox_messages where status <> 'published'");
      expect(pending[0]!.n).toBe(0);

      // The relays shared the work: each published a part, and together exactly the outbox.
      const published = await Promise.all([first, second].map((server) => metric(server.url, 'outbox_published_total')));
      expect(published[0]).toBeGreaterThan(0);
      expect(published[1]).toBeGreaterThan(0);
      expect(published[0]! + published[1]!).toBe(ids.size);
      console.log(`two servers: ${chain.length} learning updates in one chain, ${ids.size} events, published ${published.join(' + ')}`);
    } catch (error) {
      console.log(`server errors: ${JSON.stringify(logs).slice(0, 4000)}`);
      throw error;
    } finally {
      await client.end();
      await Promise.all(servers.map((server) => server.stop()));
      await drop();
    }
  }, 240_000);
});
