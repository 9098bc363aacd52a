import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/adapters/store/index.js';
import { loadConfig } from '../../src/config.js';
import { createSoma } from '../../src/main.js';
import { skipWithout } from '../support/services.js';
import { faultCounts } from '../support/fault-counts.js';
import { ADMIN_TOKEN, parseEvents } from '../support/soma.js';
import { proxiedPostgres } from '../support/proxied-postgres.js';

describe.skipIf(skipWithout('databaseUrl'))('PostgreSQL goes away in the middle of turns', () => {
  it('closes every in-flight turn with an answer and chat.turn_complete within 10 s of its return; requests meanwhile get 503 with Retry-After, never 500', async () => {
    const { db, proxy, proxied, dispose } = await proxiedPostgres();
    const direct = db.database; // the test's own view, around the proxy
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
      await dispose(soma, database);
    }
  }, 90_000);

  it('a short outage during an iteration\'s write is retried: the turn completes normally, one row and one event per iteration, one answer', async () => {
    const { db, proxy, proxied, dispose } = await proxiedPostgres();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-blip-'));
    const scriptFile = path.join(dir, 'script.json');
    const iterations = [
      { text: 'A first draft.', logprobs: [-0.7] },
      { text: 'A second draft that streams for a little while, long enough to arm the outage.', logprobs: [-0.7], tokens_per_s: 10 },
      { text: 'The final answer.', logprobs: [-0.01], final: true },
    ];
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations }] }));
    const database = await openDatabase({ databaseUrl: proxied.toString() });
    const soma = await createSoma({ config: loadConfig({ SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_DATA_DIR: dir, SOMA_LOG_LEVEL: 'silent', SA01_RLM_CONVERGENCE_THRESHOLD: '0.9' }), database, logger: pino({ level: 'silent' }) });
    const request = async (method: string, route: string, { body, key }: { body?: unknown; key?: string } = {}) =>
      soma.app.request(route, { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    try {
      const { api_key: key } = (await (await request('POST', '/v1/admin/tenants', { body: { name: 'blip' }, key: ADMIN_TOKEN })).json()) as { api_key: string };
      const capsule = (await (await request('POST', '/v1/capsules', { key, body: { name: 'b', system_prompt: 's' } })).json()) as { id: string };
      const conversation = (await (await request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
      const answered = request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'go' } });

      // Once iteration 0 is committed, the write of iteration 1 takes the database away for 1.2 s (the retries wait 3.85 s in all).
      const committed = async () => Number((await db.database.query<{ n: number }>(sql`select count(*)::int as n from rlm_iterations`))[0]!.n);
      for (let i = 0; i < 200 && (await committed()) < 1; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await committed()).toBe(1);
      const outage = proxy.outageOnNextSending(/insert into "rlm_iterations"/i, 1_200);
      let hit = false;
      void outage.began.then(() => (hit = true));

      const response = await answered;
      expect(response.status).toBe(200);
      const body = (await response.json()) as { turn_id: string; exit_reason: string; iterations: number; content: string };
      // The outage did hit the write of iteration 1 (and is over).
      expect(hit).toBe(true);
      await outage.ended;
      expect(body).toMatchObject({ exit_reason: 'llm_completed', iterations: 3, content: 'The final answer.' });

      const rows = await db.database.query<{ iteration_number: number; content: string; exit_reason: string }>(sql`select iteration_number, content, exit_reason from rlm_iterations where turn_id = ${body.turn_id} order by iteration_number`);
      expect(rows.map((r) => [r.iteration_number, r.content, r.exit_reason])).toEqual([
        [0, iterations[0]!.text, 'continue'],
        [1, iterations[1]!.text, 'continue'],
        [2, iterations[2]!.text, 'llm_completed'],
      ]);
      const [turn] = await db.database.query<{ status: string; exit_reason: string; iterations: number }>(sql`select status, exit_reason, iterations from turns where id = ${body.turn_id}`);
      expect(turn).toEqual({ status: 'completed', exit_reason: 'llm_completed', iterations: 3 });
      const events = await db.database.query<{ event_type: string }>(sql`select event_type from outbox_messages where turn_id = ${body.turn_id} order by seq`);
      expect(events.map((e) => e.event_type)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.iteration_completed', 'chat.iteration_completed', 'chat.turn_complete']);
      const answers = await db.database.query<{ content: string; metadata: { partial: boolean } }>(sql`select content, metadata from messages where turn_id = ${body.turn_id} and role = 'assistant'`);
      expect(answers.map((a) => [a.content, a.metadata.partial])).toEqual([['The final answer.', false]]);
      // The stored stream has each iteration once, and no error.
      const stream = parseEvents(await (await request('GET', `/v1/turns/${body.turn_id}/events`, { key })).text()).map((e) => e.event);
      expect(stream.filter((e) => e === 'iteration.completed')).toHaveLength(3);
      expect(stream).not.toContain('error');
      expect(stream.at(-1)).toBe('turn.completed');
      expect(await faultCounts(db.database)).toMatchObject({ stuck: 0, halfWritten: 0, missingEvents: 0 });
    } finally {
      await dispose(soma, database);
    }
  }, 60_000);

  it('a transaction whose BEGIN loses its connection gives the connection back: the next one works and the pool closes', async () => {
    const { proxy, proxied, dispose } = await proxiedPostgres();
    const database = await openDatabase({ databaseUrl: proxied.toString(), maxConnections: 1 });
    try {
      proxy.cutNextSending(/begin/i);
      await expect(database.db.transaction((tx) => database.query(sql`select 1`, tx))).rejects.toThrow();
      // With one connection in the pool, a leaked one would make this wait for the connect timeout and fail.
      const [row] = await database.db.transaction((tx) => database.query<{ n: number }>(sql`select 41 + 1 as n`, tx));
      expect(row!.n).toBe(42);
      const closed = await Promise.race([database.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting for a connection'), 5_000))]);
      expect(closed).toBe('closed');
    } finally {
      await dispose();
    }
  }, 30_000);

  it('an iteration committed whose reply was lost is counted when its turn closes: rows, events and the turn agree', async () => {
    const { db, proxy, proxied, dispose } = await proxiedPostgres();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-lost-reply-'));
    const scriptFile = path.join(dir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations: [{ text: 'A first draft.', logprobs: [-0.7] }, { text: 'The answer.', logprobs: [-0.01], final: true }] }] }));
    const database = await openDatabase({ databaseUrl: proxied.toString() });
    const soma = await createSoma({ config: loadConfig({ SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_DATA_DIR: dir, SOMA_LOG_LEVEL: 'silent' }), database, logger: pino({ level: 'silent' }) });
    const request = async (method: string, route: string, { body, key }: { body?: unknown; key?: string } = {}) =>
      soma.app.request(route, { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    try {
      const { api_key: key } = (await (await request('POST', '/v1/admin/tenants', { body: { name: 'lost-reply' }, key: ADMIN_TOKEN })).json()) as { api_key: string };
      const capsule = (await (await request('POST', '/v1/capsules', { key, body: { name: 'l', system_prompt: 's' } })).json()) as { id: string };
      const conversation = (await (await request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
      // The first iteration's learning step commits in a transaction (the process's first step on the capsule): its COMMIT's reply is lost.
      proxy.cutReplyToNext(/commit/i);
      const response = await request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'go' } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { turn_id: string; iterations: number };
      const [turn] = await db.database.query<{ status: string; iterations: number }>(sql`select status, iterations from turns where id = ${body.turn_id}`);
      const [rows] = await db.database.query<{ n: number }>(sql`select count(*)::int as n from rlm_iterations where turn_id = ${body.turn_id}`);
      expect(rows!.n).toBeGreaterThan(0);
      expect(turn!.iterations).toBe(rows!.n);
      expect(body.iterations).toBe(rows!.n);
      expect(await faultCounts(db.database)).toMatchObject({ stuck: 0, halfWritten: 0, missingEvents: 0 });
    } finally {
      await dispose(soma, database);
    }
  }, 60_000);
});
