/**
 * Tenant quotas (SPEC §13.1) through the HTTP API with real turns: turns per minute and model tokens
 * per day → 429 RATE_LIMITED with Retry-After, refused before anything is written, counted in the
 * database so that several servers on one PostgreSQL share them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSoma, type Soma } from '../../src/main.js';
import { freshDatabase } from '../support/databases.js';
import { skipWithout } from '../support/services.js';
import { ADMIN_TOKEN, readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON of API answers, checked field by field
type Json = Record<string, any>;

const script = { turns: [{ iterations: [{ text: 'A short answer for the quota tests.', confidence: 0.95, final: true }] }] };

/** A clock the test moves: starts at a minute's beginning. */
function testClock(iso: string) {
  const clock = { at: Date.parse(iso), now: () => clock.at };
  return clock;
}

/** A tenant with a capsule and a conversation, by its API key. */
async function chatReady(t: Pick<TestSoma, 'request'>, name: string) {
  const key = ((await (await t.request('POST', '/v1/admin/tenants', { key: ADMIN_TOKEN, body: { name } })).json()) as Json).api_key as string;
  const capsuleId = ((await (await t.request('POST', '/v1/capsules', { key, body: { name: 'c', system_prompt: 's' } })).json()) as Json).id as string;
  const conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId } })).json()) as Json).id as string;
  const send = (sse = false) =>
    t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'hello' }, ...(sse ? { headers: { accept: 'text/event-stream' } } : {}) });
  return { key, conversationId, send };
}

describe('SOMA_TENANT_TURNS_PER_MINUTE', () => {
  let t: TestSoma;
  const clock = testClock('2026-12-01T10:15:00.000Z');
  beforeAll(async () => {
    t = await startTestSoma({ driver: 'pglite', script, env: { SOMA_TENANT_TURNS_PER_MINUTE: '3' }, clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  const count = async (table: 'turns' | 'messages' | 'outbox_messages') =>
    ((await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)}`)) as [{ n: number }])[0].n;

  it('the turn over the limit gets 429 RATE_LIMITED with Retry-After, before anything is written; the next minute admits again', async () => {
    const acme = await chatReady(t, 'acme');
    for (let i = 0; i < 3; i += 1) expect((await acme.send()).status).toBe(200);

    const before = [await count('turns'), await count('messages'), await count('outbox_messages')];
    clock.at += 20_500;
    const refused = await acme.send();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('40');
    expect(((await refused.json()) as Json).error).toEqual({
      code: 'RATE_LIMITED',
      message: 'the tenant has started its 3 turns of this minute; retry after 40 s',
      details: { quota: 'turns_per_minute', limit: 3, retry_after_seconds: 40 },
    });
    // A streaming client gets the same plain answer before any stream opens.
    const streamed = await acme.send(true);
    expect([streamed.status, streamed.headers.get('content-type'), streamed.headers.get('retry-after')]).toEqual([429, 'application/json', '40']);
    expect([await count('turns'), await count('messages'), await count('outbox_messages')]).toEqual(before);

    // Another tenant has its own quota.
    const rival = await chatReady(t, 'rival');
    expect((await rival.send()).status).toBe(200);

    clock.at += 39_500; // 10:16:00, a new minute
    const again = await acme.send(true);
    expect(again.status).toBe(200);
    expect((await readEvents(again)).at(-1)!.event).toBe('turn.completed');
  });
});

describe('SOMA_TENANT_TOKENS_PER_DAY', () => {
  let t: TestSoma;
  const clock = testClock('2026-12-01T23:00:00.000Z');
  beforeAll(async () => {
    t = await startTestSoma({ driver: 'pglite', script, env: { SOMA_TENANT_TOKENS_PER_DAY: '40', SOMA_TENANT_TURNS_PER_MINUTE: '0' }, clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts each turn\u2019s model tokens; once the day\u2019s are used, 429 with Retry-After until midnight UTC', async () => {
    const acme = await chatReady(t, 'acme');
    const turns: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 20 && !refused; i += 1) {
      const response = await acme.send();
      if (response.status === 429) refused = response;
      else turns.push(((await response.json()) as Json).turn_id as string);
    }
    expect(refused).toBeDefined();
    expect(turns.length).toBeGreaterThan(0);

    // What was counted is what the turns used: the prompt and completion tokens of their iterations.
    let used = 0;
    for (const turnId of turns) {
      const trace = (await (await t.request('GET', `/v1/trace/${turnId}`, { key: acme.key })).json()) as Json;
      for (const iteration of trace.iterations) used += iteration.prompt_tokens + iteration.completion_tokens;
    }
    expect(used).toBeGreaterThanOrEqual(40);
    const [row] = await t.soma.database.query<{ amount: number }>(sql`select amount::int as amount from tenant_usage where kind = 'tokens'`);
    expect(row!.amount).toBe(used);

    expect(refused!.headers.get('retry-after')).toBe('3600');
    expect(((await refused!.json()) as Json).error).toMatchObject({ code: 'RATE_LIMITED', details: { quota: 'tokens_per_day', limit: 40, used, retry_after_seconds: 3600 } });

    expect((await (await chatReady(t, 'rival')).send()).status).toBe(200);
    clock.at += 3_600_000; // the next UTC day
    expect((await acme.send()).status).toBe(200);
  });
});

describe.skipIf(skipWithout('databaseUrl'))('quotas shared by two servers on one PostgreSQL', () => {
  const clock = testClock('2026-12-01T10:15:00.000Z');
  let servers: Soma[] = [];
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const fresh = await freshDatabase('postgres');
    drop = fresh.drop;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-quota-'));
    const scriptFile = path.join(dir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify(script));
    // Each server opens its own connections from DATABASE_URL, as two `soma serve` processes would.
    const config = loadConfig({
      DATABASE_URL: fresh.url!,
      SOMA_MODEL: `scripted:${scriptFile}`,
      SOMA_ADMIN_TOKEN: ADMIN_TOKEN,
      SOMA_DATA_DIR: dir,
      SOMA_TENANT_TURNS_PER_MINUTE: '3',
    });
    servers = [await createSoma({ config, clock, logger: pino({ level: 'silent' }) }), await createSoma({ config, clock, logger: pino({ level: 'silent' }), migrate: false })];
  });
  afterAll(async () => {
    for (const soma of servers) await soma.close();
    await drop?.();
  });

  it('concurrent turns on both servers: exactly the limit is admitted between them, the rest get 429', async () => {
    const [a, b] = servers as [Soma, Soma];
    const request = (soma: Soma) => async (method: string, route: string, { body, key }: { body?: unknown; key?: string } = {}) =>
      soma.app.request(route, { method, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const acme = await chatReady({ request: request(a) }, 'acme');
    const viaB = request(b);
    const sends = Array.from({ length: 8 }, (_, i) =>
      i % 2 === 0 ? acme.send() : viaB('POST', `/v1/conversations/${acme.conversationId}/messages`, { key: acme.key, body: { content: 'hello' } }),
    );
    const statuses = (await Promise.all(sends)).map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    const [{ n }] = (await a.database.query<{ n: number }>(sql`select count(*)::int as n from turns`)) as [{ n: number }];
    expect(n).toBe(3);
  });
});
