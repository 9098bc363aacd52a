/**
 * Inside one tenant (SPEC §13.1), through the HTTP API in process with real turns: capability secrets
 * are write-only everywhere, participation governs the trace routes and `/v1/events`, and a revoked
 * key stops working.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { ADMIN_TOKEN, readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON of API answers, checked field by field
type Json = Record<string, any>;

const script = {
  turns: [
    { match: 'fetch', iterations: [{ text: 'Fetching.', tool_calls: [{ name: 'http_fetch', args: { url: 'FETCH_URL' } }] }, { text: 'Fetched.', confidence: 0.95, final: true }] },
    { iterations: [{ text: 'Plain answer.', confidence: 0.95, final: true }] },
  ],
};

/** Values that must never leave the server once stored. */
const secrets = {
  header: 'Bearer sk-header-9f2c41d7e0',
  env: 'env-value-5a7b93c2d1',
  token: 'tok-key-3e8d52a6f4',
};

describe('write-only capability secrets', () => {
  let t: TestSoma;
  let web: Server;
  const received: (string | undefined)[] = [];
  const logLines: string[] = [];
  const bodies: string[] = [];
  let key: string;

  beforeAll(async () => {
    web = createServer((request, response) => {
      received.push(request.headers.authorization);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('the API answered');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/v1/data`;
    t = await startTestSoma({ driver: 'pglite', script: JSON.parse(JSON.stringify(script).replace('FETCH_URL', url)), env: { SOMA_EGRESS_ALLOW: '127.0.0.1' }, logLines });
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => {
    await t?.close();
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  });

  /** Calls the API and keeps every response body for the final check. */
  const call = async (method: string, route: string, body?: unknown, apiKey = key) => {
    const response = await t.request(method, route, { key: apiKey, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, text, json: (text.startsWith('{') ? JSON.parse(text) : {}) as Json };
  };
  const turn = async (conversationId: string) => {
    const response = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'fetch please' }, headers: { accept: 'text/event-stream' } });
    const events = await readEvents(response.clone());
    bodies.push(await response.text());
    return events;
  };

  const tool = {
    name: 'http_fetch',
    config: { allowed_hosts: ['127.0.0.1'], headers: { Authorization: secrets.header }, env: { UPSTREAM: secrets.env }, api_token: secrets.token, max_bytes: 4096 },
  };
  const masked = { allowed_hosts: ['127.0.0.1'], headers: { Authorization: '***' }, env: { UPSTREAM: '***' }, api_token: '***', max_bytes: 4096 };

  it('are stored and used by the tool, shown as "***" in every answer, and a PATCH sending "***" back keeps them', async () => {
    const created = await call('POST', '/v1/capsules', { name: 'with secrets', system_prompt: 's', tools: [tool] });
    expect(created.status).toBe(201);
    expect(created.json.tools[0].config).toEqual(masked);
    const capsuleId = created.json.id as string;
    expect((await call('GET', `/v1/capsules/${capsuleId}`)).json.tools[0].config).toEqual(masked);
    expect((await call('GET', '/v1/capsules')).json.capsules[0].tools[0].config).toEqual(masked);

    const conversationId = (await call('POST', '/v1/conversations', { capsule_id: capsuleId })).json.id as string;
    const first = await turn(conversationId);
    expect(first.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: { status: 200, body: 'the API answered' } });
    expect(received).toEqual([secrets.header]);

    // The Studio's way: read the capsule, change something, send its tools back as read.
    const read = (await call('GET', `/v1/capsules/${capsuleId}`)).json;
    const patched = await call('PATCH', `/v1/capsules/${capsuleId}`, { tools: read.tools.map((t: Json) => ({ ...t, timeout_ms: 30_000 })) });
    expect(patched.status).toBe(200);
    expect(patched.json.tools[0]).toMatchObject({ timeout_ms: 30_000, config: masked });
    const [stored] = await t.soma.database.query<{ config: Json }>(sql`select config from capabilities where capsule_id = ${capsuleId}`);
    expect(stored!.config).toEqual(tool.config);
    await turn(conversationId);
    expect(received).toEqual([secrets.header, secrets.header]);

    // A new value replaces the stored one (and is not shown either).
    const replaced = await call('PATCH', `/v1/capsules/${capsuleId}`, { tools: [{ ...tool, config: { ...masked, headers: { Authorization: 'Bearer replaced-7c1e' } } }] });
    expect(replaced.json.tools[0].config.headers).toEqual({ Authorization: '***' });
    await turn(conversationId);
    expect(received.at(-1)).toBe('Bearer replaced-7c1e');

    // Every other way out: the trace, the event log, the outbox rows the relay sends to Kafka.
    const traces = (await call('GET', `/v1/trace/conversation/${conversationId}`)).json.traces as { turn_id: string }[];
    for (const { turn_id } of traces) await call('GET', `/v1/trace/${turn_id}?include_messages=true`);
    const events = await call('GET', '/v1/events?limit=1000');
    expect(events.json.events.map((e: Json) => e.event_type)).toEqual(expect.arrayContaining(['capsule.created', 'capsule.changed', 'chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete']));
    expect(events.json.events.find((e: Json) => e.event_type === 'capsule.changed').payload.capsule.tools[0].config).toEqual(masked);
    const outbox = await t.soma.database.query<{ payload: unknown; headers: unknown }>(sql`select payload, headers from outbox_messages`);
    expect(outbox.length).toBeGreaterThan(5);

    const everything = [...bodies, JSON.stringify(outbox), ...logLines].join('\n');
    expect(logLines.filter((line) => /"msg":"capsule (created|changed)"/.test(line))).toHaveLength(3);
    for (const secret of [...Object.values(secrets), 'Bearer replaced-7c1e', 'sk-header', 'replaced-7c1e']) expect(everything).not.toContain(secret);
  });
});

describe.each(drivers())('participation inside a tenant (trace and events, %s)', (driver) => {
  let t: TestSoma;
  let admin: string;
  let alice: string;
  let bob: string;
  let conversationId: string;
  let turnId: string;
  let bobsConversation: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    const tenant = (await (await t.request('POST', '/v1/admin/tenants', { key: ADMIN_TOKEN, body: { name: 'acme' } })).json()) as Json;
    admin = tenant.api_key;
    expect(tenant).toMatchObject({ user_id: 'admin', admin: true, key_id: expect.any(String) });
    const keyFor = async (user: string) => (await (await t.request('POST', `/v1/admin/tenants/${tenant.id}/api-keys`, { key: ADMIN_TOKEN, body: { user_id: user } })).json()) as Json;
    const aliceKey = await keyFor('alice');
    expect(aliceKey).toMatchObject({ user_id: 'alice', admin: false });
    alice = aliceKey.api_key;
    bob = (await keyFor('bob')).api_key;

    const capsuleId = ((await (await t.request('POST', '/v1/capsules', { key: alice, body: { name: 'c', system_prompt: 's' } })).json()) as Json).id as string;
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key: alice, body: { capsule_id: capsuleId } })).json()) as Json).id as string;
    const done = (await (await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key: alice, body: { content: 'my private question' } })).json()) as Json;
    turnId = done.turn_id;
    bobsConversation = ((await (await t.request('POST', '/v1/conversations', { key: bob, body: { capsule_id: capsuleId } })).json()) as Json).id as string;
    await t.request('POST', `/v1/conversations/${bobsConversation}/messages`, { key: bob, body: { content: 'bob asks' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (route: string, key: string) => {
    const response = await t.request('GET', route, { key });
    return { status: response.status, json: (await response.json()) as Json };
  };
  const eventsOf = async (key: string) => (await get('/v1/events?limit=1000', key)).json.events as Json[];
  const ofAlicesConversation = (e: Json) => e.turn_id === turnId || e.payload?.conversation_id === conversationId;

  it('a user of the same tenant who is not a participant gets 404 on both trace routes', async () => {
    expect((await get(`/v1/trace/${turnId}`, alice)).status).toBe(200);
    expect((await get(`/v1/trace/${turnId}?include_messages=true`, alice)).json.messages.map((m: Json) => m.content)).toContain('my private question');
    expect((await get(`/v1/trace/conversation/${conversationId}`, alice)).status).toBe(200);

    for (const key of [bob, admin]) {
      const trace = await get(`/v1/trace/${turnId}?include_messages=true`, key);
      expect(trace).toEqual({ status: 404, json: { error: { code: 'TURN_NOT_FOUND', message: `turn ${turnId} not found` } } });
      expect(await get(`/v1/trace/${turnId}`, key)).toMatchObject({ status: 404 });
      expect(await get(`/v1/trace/conversation/${conversationId}`, key)).toEqual({
        status: 404,
        json: { error: { code: 'CONVERSATION_NOT_FOUND', message: `conversation ${conversationId} not found` } },
      });
    }
  });

  it('/v1/events gives a user the events of their conversations and of capsules, none of another user\u2019s conversation; the admin key sees all', async () => {
    const all = await eventsOf(admin);
    expect(all.filter(ofAlicesConversation).map((e) => e.event_type)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete']);
    expect(all.some((e) => e.payload?.conversation_id === bobsConversation)).toBe(true);

    const bobs = await eventsOf(bob);
    expect(bobs.filter(ofAlicesConversation)).toEqual([]);
    expect(JSON.stringify(bobs)).not.toContain('my private question');
    expect(bobs.map((e) => e.event_type)).toEqual(['capsule.created', 'chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete']);
    expect(bobs.filter((e) => e.event_type.startsWith('chat.')).every((e) => e.payload.conversation_id === bobsConversation)).toBe(true);

    const alices = await eventsOf(alice);
    expect(alices.filter(ofAlicesConversation)).toHaveLength(3);
    expect(alices.some((e) => e.payload?.conversation_id === bobsConversation)).toBe(false);
    // Paging over the hidden events still moves on.
    const page = await get('/v1/events?limit=2', bob);
    expect(page.json.events.map((e: Json) => e.event_type)).toEqual(['capsule.created', 'chat.turn_started']);
    expect((await get(`/v1/events?after=${page.json.next_after}&limit=10`, bob)).json.events.map((e: Json) => e.event_type)).toEqual(['chat.iteration_completed', 'chat.turn_complete']);
  });

  it('an admin key created later with admin: true sees all; a plain key does not', async () => {
    const tenantId = (await get('/v1/capsules', alice)).json.capsules[0].tenant_id as string;
    const second = (await (await t.request('POST', `/v1/admin/tenants/${tenantId}/api-keys`, { key: ADMIN_TOKEN, body: { user_id: 'ops', admin: true } })).json()) as Json;
    expect(second.admin).toBe(true);
    expect((await eventsOf(second.api_key)).filter(ofAlicesConversation)).toHaveLength(3);
    const refused = await t.request('POST', `/v1/admin/tenants/${tenantId}/api-keys`, { key: ADMIN_TOKEN, body: { admin: 'yes' } });
    expect(refused.status).toBe(400);
  });
});

describe('API keys', () => {
  let t: TestSoma;
  beforeAll(async () => {
    t = await startTestSoma({ driver: 'pglite', script });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('DELETE /v1/admin/api-keys/:id revokes a key: it gets 401 from then on, other keys go on', async () => {
    const tenant = (await (await t.request('POST', '/v1/admin/tenants', { key: ADMIN_TOKEN, body: { name: 'acme' } })).json()) as Json;
    const extra = (await (await t.request('POST', `/v1/admin/tenants/${tenant.id}/api-keys`, { key: ADMIN_TOKEN, body: { user_id: 'carol' } })).json()) as Json;
    expect(extra.key_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await t.request('GET', '/v1/capsules', { key: extra.api_key })).status).toBe(200);

    expect((await t.request('DELETE', `/v1/admin/api-keys/${extra.key_id}`, { key: tenant.api_key })).status).toBe(401);
    const revoked = await t.request('DELETE', `/v1/admin/api-keys/${extra.key_id}`, { key: ADMIN_TOKEN });
    expect(revoked.status).toBe(204);
    const refused = await t.request('GET', '/v1/capsules', { key: extra.api_key });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).error.code).toBe('UNAUTHORIZED');
    expect((await t.request('GET', '/v1/capsules', { key: tenant.api_key })).status).toBe(200);

    expect((await t.request('DELETE', `/v1/admin/api-keys/${extra.key_id}`, { key: ADMIN_TOKEN })).status).toBe(204);
    const unknown = await t.request('DELETE', '/v1/admin/api-keys/00000000-0000-4000-8000-000000000000', { key: ADMIN_TOKEN });
    expect(unknown.status).toBe(404);
    expect((await t.request('DELETE', `/v1/admin/api-keys/${tenant.key_id}`, { key: ADMIN_TOKEN })).status).toBe(204);
    expect((await t.request('GET', '/v1/capsules', { key: tenant.api_key })).status).toBe(401);
  });
});
