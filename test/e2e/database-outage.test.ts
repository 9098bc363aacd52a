import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/store/index.js';
import { loadConfig } from '../../src/config.js';
import { createSoma } from '../../src/main.js';
import { freshDatabase } from '../support/databases.js';
import { skipWithout } from '../support/services.js';
import { ADMIN_TOKEN, parseEvents } from '../support/soma.js';

/** A TCP proxy in front of PostgreSQL that the test takes down (every connection cut, new ones refused) and brings back. */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  const port = await listen(0);
  return {
    port,
    down: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    up: () => listen(port),
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}

describe.skipIf(skipWithout('databaseUrl'))('PostgreSQL goes away in the middle of turns', () => {
  it('closes every in-flight turn with an answer and chat.turn_complete within 10 s of its return; requests meanwhile get 503 with Retry-After, never 500', async () => {
    const db = await freshDatabase('postgres');
    const direct = db.database; // the test's own view, around the proxy
    const target = new URL(db.url!);
    const proxy = await startProxy({ host: target.hostname, port: Number(target.port) });
    const proxied = new URL(db.url!);
    proxied.port = String(proxy.port);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-outage-'));
    const scriptFile = path.join(dir, 'script.json');
    const draft = (n: number) => ({ text: `Draft ${n} of a long answer that streams for about a second in all of its words.`, logprobs: [-0.7], tokens_per_s: 15 });
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations: [draft(0), draft(1), draft(2), draft(3)] }] }));
    const database = await openDatabase({ databaseUrl: proxied.toString() });
    const config = loadConfig({ SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_DATA_DIR: dir, SOMA_LOG_LEVEL: 'silent', SA01_RLM_MAX_ITERATIONS: '4' });
    const soma = await createSoma({ config, database, logger: pino({ level: 'silent' }) });
    const statuses: number[] = [];
    const request = async (method: string, route: string, { body, key, headers = {} }: { body?: unknown; key?: string; headers?: Record<string, string> } = {}) => {
      const response = await soma.app.request(route, { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      statuses.push(response.status);
      return response;
    };
    try {
      const { api_key: key } = (await (await request('POST', '/v1/admin/tenants', { body: { name: 'outage' }, key: ADMIN_TOKEN })).json()) as { api_key: string };
      const capsule = (await (await request('POST', '/v1/capsules', { key, body: { name: 'o', system_prompt: 's', rlm_min_iterations: 4 } })).json()) as { id: string };
      const conversations = await Promise.all([0, 1, 2].map(async () => ((await (await request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id));
      const background = await Promise.all(
        conversations.slice(1).map(async (id) => ((await (await request('POST', `/v1/conversations/${id}/messages`, { key, body: { content: 'go' }, headers: { prefer: 'respond-async' } })).json()) as { turn_id: string }).turn_id),
      );
      const streamed = request('POST', `/v1/conversations/${conversations[0]}/messages`, { key, body: { content: 'go' }, headers: { accept: 'text/event-stream' } }).then((r) => r.text());

      // Once every turn has a committed iteration, the database goes away for 6 s (longer than the iteration's retries).
      const committed = async () => Number((await direct.query<{ n: number }>(sql`select count(distinct turn_id)::int as n from rlm_iterations`))[0]!.n);
      for (let i = 0; i < 200 && (await committed()) < 3; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await committed()).toBe(3);
      await proxy.down();
      await new Promise((r) => setTimeout(r, 500));
      const during = [await request('GET', '/v1/capsules', { key }), await request('POST', `/v1/conversations/${conversations[1]}/messages`, { key, body: { content: 'more' } })];
      for (const response of during) {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBeTruthy();
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
      }
      await new Promise((r) => setTimeout(r, 5_500));
      await proxy.up();
      const back = Date.now();

      const open = async () => direct.query<{ id: string; status: string }>(sql`select id, status from turns where status in ('running', 'awaiting_approval')`);
      while ((await open()).length > 0) {
        if (Date.now() - back > 10_000) throw new Error(`turns still open 10 s after the database returned: ${JSON.stringify(await open())}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(Date.now() - back).toBeLessThan(10_000);

      const turns = await direct.query<{ id: string; status: string; exit_reason: string }>(sql`select id, status, exit_reason from turns`);
      expect(turns).toHaveLength(3);
      for (const turn of turns) {
        const [answer] = await direct.query<{ content: string; metadata: { partial: boolean } }>(sql`select content, metadata from messages where turn_id = ${turn.id} and role = 'assistant'`);
        const best = await direct.query<{ content: string }>(sql`select content from rlm_iterations where turn_id = ${turn.id} order by convergence_score desc, iteration_number desc limit 1`);
        expect(answer?.content).toBe(best[0]!.content);
        const complete = await direct.query<{ n: number }>(sql`select count(*)::int as n from outbox_messages where turn_id = ${turn.id} and event_type = 'chat.turn_complete'`);
        expect(complete[0]!.n).toBe(1);
        if (turn.exit_reason === 'error') expect(answer?.metadata.partial).toBe(true);
      }
      expect(turns.some((t) => t.exit_reason === 'error')).toBe(true);

      // The streaming client saw the fault, then the answer.
      const events = parseEvents(await streamed).map((e) => e.event);
      expect(events.at(-1)).toBe('turn.completed');
      if (events.includes('error')) expect(events.indexOf('error')).toBeLessThan(events.indexOf('turn.completed'));
      expect(background).toHaveLength(2);

      // And the server works again.
      expect((await request('GET', '/v1/capsules', { key })).status).toBe(200);
      expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    } finally {
      await soma.close();
      await database.close().catch(() => undefined);
      await proxy.close();
      await db.drop().catch(() => undefined);
    }
  }, 90_000);
});
