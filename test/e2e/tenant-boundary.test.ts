/**
 * The tenant boundary of SPEC §13.1 through the product's own path: the HTTP API in process, real
 * turns with the scripted model, the real tool runner, MCP registry, egress policy and calculator.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executingProcesses, executions, newCounterFile, stdioServer } from '../fixtures/mcp-counter-server.helpers.js';
import { readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-boundary-'));
const writeJson = (name: string, value: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
};

/** A local HTTP service, counting the requests that reach it. */
interface Local {
  server: Server;
  port: number;
  requests: number;
}
async function localService(host: string, answer: (response: ServerResponse) => void): Promise<Local> {
  const local = { requests: 0 } as Local;
  local.server = createServer((_request, response) => {
    local.requests += 1;
    answer(response);
  });
  await new Promise<void>((resolve) => local.server.listen(0, host, resolve));
  local.port = (local.server.address() as AddressInfo).port;
  return local;
}
const loopbackOnly = (response: ServerResponse) => response.writeHead(200, { 'content-type': 'text/plain' }).end('loopback-only service');

/** Loopback-only services (IPv4 and IPv6), and a stand-in for a public web server that redirects to the IPv4 one. */
let web4: Local;
let web6: Local;
let redirector: Local;
/**
 * The stand-in for a public host: 127.0.0.2, which the servers of this file that fetch allow in SOMA_EGRESS_ALLOW
 * as if it were public (a test cannot listen on a public address).
 */
const publicStandIn = '127.0.0.2';
beforeAll(async () => {
  web4 = await localService('127.0.0.1', loopbackOnly);
  web6 = await localService('::1', loopbackOnly);
  redirector = await localService(publicStandIn, (response) => response.writeHead(302, { location: `http://127.0.0.1:${web4.port}/` }).end());
});
afterAll(async () => {
  for (const local of [web4, web6, redirector]) {
    local?.server.closeAllConnections();
    await new Promise((resolve) => local?.server.close(resolve));
  }
});

/**
 * SPEC §13.1's non-public destinations, each fetched with the host allow-listed by the capsule.
 * `refusal` is the egress policy's reason without SOMA_EGRESS_ALLOW; `allow` lists it there;
 * `reaches` is the service that answers once it is allowed (none for addresses nothing of this test
 * listens on: port 81 there, so no real metadata service is ever asked anything).
 */
const egressCases = [
  { name: '127.0.0.1', url: () => `http://127.0.0.1:${web4.port}/`, hosts: ['127.0.0.1'], refusal: '127.0.0.1 is not a public address (loopback)', allow: '127.0.0.1', reaches: () => web4 },
  { name: '10.0.0.1', url: () => 'http://10.0.0.1:81/', hosts: ['10.0.0.1'], refusal: '10.0.0.1 is not a public address (private)', allow: '10.0.0.1' },
  { name: '169.254.169.254', url: () => 'http://169.254.169.254:81/latest/meta-data/', hosts: ['169.254.169.254'], refusal: '169.254.169.254 is not a public address (linkLocal)', allow: '169.254.169.254' },
  { name: '[::1]', url: () => `http://[::1]:${web6.port}/`, hosts: ['[::1]'], refusal: '::1 is not a public address (loopback)', allow: '::1', reaches: () => web6 },
  // new URL() spells it [::ffff:7f00:1]; connecting to it reaches the IPv4 loopback service.
  { name: '[::ffff:127.0.0.1]', url: () => `http://[::ffff:127.0.0.1]:${web4.port}/`, hosts: ['[::ffff:127.0.0.1]'], refusal: '::ffff:7f00:1 is not a public address (loopback)', allow: '::ffff:127.0.0.1', reaches: () => web4 },
  { name: 'localhost (a name that resolves to loopback)', url: () => `http://localhost:${web4.port}/`, hosts: ['localhost'], refusal: 'localhost resolves to 127.0.0.1, which is not a public address (loopback)', allow: 'localhost', reaches: () => web4 },
  { name: 'a public-looking URL that redirects to loopback', url: () => `http://${publicStandIn}:${redirector.port}/`, hosts: [publicStandIn, '127.0.0.1'], refusal: '127.0.0.1 is not a public address (loopback)', allow: '127.0.0.1', reaches: () => web4 },
].map((c, index) => ({ ...c, message: `please fetch #${index}.` }));

/** What the operator's scripted model does, by message (one http_fetch turn per egress case). */
const script = () => ({
  turns: [
    ...egressCases.map((c) => ({
      match: c.message,
      iterations: [{ text: 'Fetching.', tool_calls: [{ name: 'http_fetch', args: { url: c.url() } }] }, { text: 'Fetched.', confidence: 0.95, final: true }],
    })),
    { match: 'echo', iterations: [{ text: 'Echoing.', tool_calls: [{ name: 'echo', args: { text: 'through MCP' } }] }, { text: 'Echoed.', confidence: 0.95, final: true }] },
    { match: 'zeros', iterations: [{ text: 'Computing.', tool_calls: [{ name: 'calculator', args: { expression: 'zeros(30000,30000)' } }] }, { text: 'Done.', confidence: 0.95, final: true }] },
    { match: 'runaway', iterations: [{ text: 'Computing.', tool_calls: [{ name: 'calculator', args: { expression: 'sum(map(ones(1000), f(x) = isPrime(2^52-47)))' } }] }, { text: 'Done.', confidence: 0.95, final: true }] },
    { match: 'compute', iterations: [{ text: 'Computing.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }] }, { text: '42.', confidence: 0.95, final: true }] },
    { iterations: [{ text: 'Plain answer.', confidence: 0.95, final: true }] },
  ],
});

/** One http_fetch turn of an egress case in a fresh conversation; its tool result and whether the turn completed. */
async function fetchTurn(t: TestSoma, key: string, c: (typeof egressCases)[number]) {
  const created = (await (
    await t.request('POST', '/v1/capsules', { key, body: { name: 'c', system_prompt: 's', tools: [{ name: 'http_fetch', timeout_ms: 5_000, config: { allowed_hosts: c.hosts } }] } })
  ).json()) as { id: string };
  const conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: created.id } })).json()) as { id: string }).id;
  const events = await readEvents(await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: c.message }, headers: { accept: 'text/event-stream' } }));
  return { result: events.find((e) => e.event === 'tool.result')!.data, last: events.at(-1)!.event };
}

/** A capsule's own scripted model (needs SOMA_ALLOW_SCRIPTED_MODELS=true): always a provider error. */
const failingScript = writeJson('failing.json', { turns: [{ iterations: [{ error: 'server_error' }] }] });

type Event = { event: string; data: Record<string, unknown>; at: number };

/** Reads an SSE response as it arrives, stamping each event with the time it came. */
async function streamEvents(response: Response, onEvent: (event: Event) => void = () => undefined): Promise<Event[]> {
  const events: Event[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(block)?.[1];
      const data = /^data: ?(.*)$/m.exec(block)?.[1];
      if (event && data) {
        events.push({ event, data: JSON.parse(data) as Record<string, unknown>, at: performance.now() });
        onEvent(events.at(-1)!);
      }
    }
  }
}

describe('the tenant boundary through the API (SPEC §13.1)', () => {
  const counterFile = newCounterFile();
  let t: TestSoma;
  let key: string;

  beforeAll(async () => {
    const registry = writeJson('mcp-servers.json', { counter: stdioServer(counterFile) });
    t = await startTestSoma({
      driver: 'pglite',
      script: script(),
      env: { SOMA_MCP_SERVERS: registry, SOMA_ALLOW_SCRIPTED_MODELS: 'true', SOMA_EGRESS_ALLOW: publicStandIn },
    });
    key = (await t.tenant('acme')).api_key;
  });
  afterAll(async () => {
    await t?.close();
  });

  const capsule = async (body: Record<string, unknown>, apiKey = key) => {
    const response = await t.request('POST', '/v1/capsules', { key: apiKey, body: { name: 'c', system_prompt: 's', ...body } });
    return { status: response.status, body: (await response.json()) as { id: string; error?: { code: string; message: string } } };
  };
  const conversation = async (capsuleId: string, apiKey = key) =>
    ((await (await t.request('POST', '/v1/conversations', { key: apiKey, body: { capsule_id: capsuleId } })).json()) as { id: string }).id;
  const send = (conversationId: string, content: string, apiKey = key) =>
    t.request('POST', `/v1/conversations/${conversationId}/messages`, { key: apiKey, body: { content }, headers: { accept: 'text/event-stream' } });

  it('an inline stdio server in a capsule is refused with 400 MCP_SERVER_UNKNOWN and nothing is spawned', async () => {
    const marker = path.join(dir, 'pwned');
    const inline = { name: 'x', kind: 'mcp', config: { server: { transport: 'stdio', command: 'sh', args: ['-c', `touch ${marker}`] } } };
    const created = await capsule({ tools: [inline] });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({ code: 'MCP_SERVER_UNKNOWN' });
    expect(created.body.error!.message).not.toContain('touch');

    const ok = await capsule({ tools: [{ name: 'calculator' }] });
    const patched = await t.request('PATCH', `/v1/capsules/${ok.body.id}`, { key, body: { tools: [inline] } });
    expect(patched.status).toBe(400);
    const unknown = await t.request('PATCH', `/v1/capsules/${ok.body.id}`, { key, body: { tools: [{ name: 'x', kind: 'mcp', config: { server: 'nope' } }] } });
    expect(((await unknown.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'MCP_SERVER_UNKNOWN',
      message: 'MCP tool "x": no MCP server named "nope" is registered (registered servers: counter)',
      details: { tool: 'x', servers: ['counter'] },
    });
    const unchanged = (await (await t.request('GET', `/v1/capsules/${ok.body.id}`, { key })).json()) as { version: number; tools: { name: string }[] };
    expect([unchanged.version, unchanged.tools.map((tool) => tool.name)]).toEqual([1, ['calculator']]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('the catalogue names the registered MCP servers, never their commands', async () => {
    const response = await t.request('GET', '/v1/catalogue', { key });
    const body = (await response.json()) as { mcp_servers: string[]; models: { providers: { prefix: string; available: boolean }[] } };
    expect(body.mcp_servers).toEqual(['counter']);
    expect(body.models.providers.find((p) => p.prefix === 'scripted')!.available).toBe(true);
    expect(JSON.stringify(body)).not.toContain('mcp-counter-server');
    expect(JSON.stringify(body)).not.toContain(process.execPath);
  });

  it('a registered stdio server works end to end, over one connection reused across turns; its metric label is "mcp"', async () => {
    const created = await capsule({ tools: [{ name: 'echo', kind: 'mcp', config: { server: 'counter' } }] });
    expect(created.status).toBe(201);
    const conversationId = await conversation(created.body.id);
    for (let turn = 0; turn < 2; turn += 1) {
      const events = await readEvents(await send(conversationId, 'please echo'));
      expect(events.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: 'through MCP' });
      expect(events.at(-1)!.data).toMatchObject({ content: 'Echoed.', tools_used: ['echo'] });
    }
    expect(executions(counterFile, 'echo')).toBe(2);
    expect(executingProcesses(counterFile)).toHaveLength(1);
    const metrics = await (await t.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/tool_calls_total\{tool="mcp",outcome="ok"\} 2/);
    expect(metrics).not.toMatch(/tool="echo"/);
  });

  it.each(['scripted:/etc/passwd', 'local:/etc/hostname', 'local:../x', 'local:/nonexistent/x.gguf'])('model %s → 400 that quotes nothing', async (model) => {
    // Scripted capsule models are on in this server; a path never is.
    const strict = model.startsWith('scripted:') ? undefined : model;
    for (const body of [{ model }, { allowed_models: ['openai:gpt-4o-mini', model] }]) {
      const created = await capsule(body);
      if (strict === undefined) {
        expect(created.status).toBe(201); // scripted allowed here: the turn's error still quotes nothing (below)
        continue;
      }
      expect(created.status).toBe(400);
      expect(created.body.error!.code).toBe('MODEL_NOT_ALLOWED');
      expect(created.body.error!.message).toMatch(/never by a path/);
      expect(created.body.error!.message).not.toMatch(/etc|hostname|nonexistent|exist|found|root/);
    }
  });

  it('a scripted capsule model that points at a server file fails its turn without quoting the file or telling whether it exists', async () => {
    const apiKeyFile = path.join(dir, 'api-key');
    writeFileSync(apiKeyFile, 'soma_sk_live_0123456789abcdef\n');
    const messages: string[] = [];
    for (const file of ['/etc/passwd', apiKeyFile, '/nonexistent/script.json']) {
      const created = await capsule({ model: `scripted:${file}` });
      const response = await send(await conversation(created.body.id), 'hello');
      const body = await response.text();
      expect(body).not.toMatch(/root:x|soma_sk_live|ENOENT|EACCES|not found|Unexpected token/);
      messages.push(body.replace(file, '<file>'));
    }
    expect(new Set(messages).size).toBe(1);
  });

  it.each(egressCases)('http_fetch to $name is refused by the egress policy although the capsule allow-lists it; nothing reaches the service', async (c) => {
    const before = { web4: web4.requests, web6: web6.requests, redirector: redirector.requests };
    const { result, last } = await fetchTurn(t, key, c);
    expect(result).toMatchObject({ ok: false, error: `http_fetch failed: egress refused: ${c.refusal}; the operator can allow it in SOMA_EGRESS_ALLOW` });
    expect(last).toBe('turn.completed');
    const redirected = c.hosts.includes(publicStandIn) ? 1 : 0; // the public stand-in answered with its redirect
    expect({ web4: web4.requests, web6: web6.requests, redirector: redirector.requests }).toEqual({ ...before, redirector: before.redirector + redirected });
  });

  it("zeros(30000,30000) is a tool error within the timeout while another tenant's turn completes normally", async () => {
    const neighbourKey = (await t.tenant('neighbour')).api_key;
    const busy = await capsule({ tools: [{ name: 'calculator', timeout_ms: 20_000 }] });
    const calm = await capsule({}, neighbourKey);
    const busyConversation = await conversation(busy.body.id);
    const calmConversation = await conversation(calm.body.id, neighbourKey);

    // The other tenant's turn starts as soon as the calculation is called for, and runs alongside it.
    let calmTurn: Promise<Event[]> | undefined;
    const busyEvents = await streamEvents(await send(busyConversation, 'zeros please'), (event) => {
      if (event.event === 'tool.call') calmTurn ??= send(calmConversation, 'hello', neighbourKey).then((response) => streamEvents(response));
    });
    const calmEvents = await calmTurn!;

    // Either the worker's memory limit stops it or the capability timeout terminates it: both before
    // the 20 s timeout has passed (the runner answers with whichever comes first).
    const result = busyEvents.find((e) => e.event === 'tool.result')!.data;
    expect(result.ok).toBe(false);
    expect(String(result.error)).toMatch(/^calculator failed: the expression needs more than 128 MB of memory|^calculator timed out after 20000 ms$/);
    expect(busyEvents.at(-1)!).toMatchObject({ event: 'turn.completed', data: { content: 'Done.' } });
    expect(calmEvents.at(-1)!).toMatchObject({ event: 'turn.completed', data: { content: 'Plain answer.' } });
    // The neighbour's turn was under way while the calculation ran (a calculation on the event loop
    // would hold its start back until the calculation ended).
    expect(calmEvents[0]!.event).toBe('turn.started');
    expect(calmEvents[0]!.at).toBeLessThan(busyEvents.find((e) => e.event === 'tool.result')!.at);
  });

  it("another tenant's turn completes while a runaway calculation runs", async () => {
    const otherKey = (await t.tenant('other')).api_key;
    const busy = await capsule({ tools: [{ name: 'calculator', timeout_ms: 3_000 }] });
    const calm = await capsule({}, otherKey);
    const busyConversation = await conversation(busy.body.id);
    const calmConversation = await conversation(calm.body.id, otherKey);

    const busyEvents = streamEvents(await send(busyConversation, 'runaway please'));
    // Wait until the runaway calculation has started, then run the other tenant's whole turn.
    const calmStarted = await (async () => {
      for (let i = 0; i < 200; i += 1) {
        const [{ n }] = (await t.soma.database.query<{ n: number }>(
          (await import('drizzle-orm')).sql`select count(*)::int as n from turns where conversation_id = ${busyConversation}`,
        )) as [{ n: number }];
        if (n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return performance.now();
    })();
    const calmEvents = await streamEvents(await send(calmConversation, 'hello', otherKey));
    const calmDone = calmEvents.at(-1)!;
    expect(calmDone).toMatchObject({ event: 'turn.completed', data: { content: 'Plain answer.' } });

    const busyResult = (await busyEvents).find((e) => e.event === 'tool.result')!;
    expect(busyResult.data).toMatchObject({ ok: false, error: 'calculator timed out after 3000 ms' });
    expect(calmDone.at).toBeLessThan(busyResult.at);
    expect(calmDone.at).toBeGreaterThan(calmStarted);
  });

  it("a failing model on capsule A leaves capsule B's turns with tools", async () => {
    const failing = await capsule({ model: `scripted:${failingScript}`, tools: [{ name: 'calculator' }] });
    const healthy = await capsule({ tools: [{ name: 'calculator' }] });
    const failed = await readEvents(await send(await conversation(failing.body.id), 'compute please'));
    expect(failed.find((e) => e.event === 'error')!.data).toMatchObject({ code: 'LLM_SERVER_ERROR' });
    expect(t.soma.ctx.health.modelState(`scripted:${failingScript}`)).toBe('unhealthy');

    const events = await readEvents(await send(await conversation(healthy.body.id), 'compute please'));
    expect(events.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: { result: 42 } });
    expect(events.at(-1)!.data).toMatchObject({ content: '42.', tools_used: ['calculator'] });
    expect(t.soma.ctx.health.degraded({ model: `scripted:${t.scriptFile}` })).toBe(false);
    // The turn ran whole: not degraded (tools) and with memory on, as recorded for replay.
    const turnId = events.at(-1)!.data.turn_id as string;
    const [recorded] = await t.soma.database.query<{ settings: { degraded: boolean; memoryOff: boolean } }>((await import('drizzle-orm')).sql`select settings from turns where id = ${turnId}`);
    expect(recorded!.settings).toMatchObject({ degraded: false, memoryOff: false });
  });
});

describe('http_fetch with SOMA_EGRESS_ALLOW listing the destination', () => {
  // Two servers: one allows 127.0.0.1 (which also admits its IPv4-mapped form and localhost), the
  // other lists every other case's entry and not 127.0.0.1, so each of those cases gets through by
  // its own entry only.
  const servers = new Map<string, Promise<TestSoma>>();
  const serverFor = (c: (typeof egressCases)[number]) => {
    const allow = c.allow === '127.0.0.1' ? ['127.0.0.1'] : egressCases.filter((other) => other.allow !== '127.0.0.1').map((other) => other.allow);
    const env = { SOMA_EGRESS_ALLOW: [publicStandIn, ...allow].join(',') };
    if (!servers.has(env.SOMA_EGRESS_ALLOW)) servers.set(env.SOMA_EGRESS_ALLOW, startTestSoma({ driver: 'pglite', script: script(), env }));
    return servers.get(env.SOMA_EGRESS_ALLOW)!;
  };
  afterAll(async () => {
    for (const server of servers.values()) await (await server).close();
  });

  it.each(egressCases)('$name is no longer refused by the egress policy', { timeout: 60_000 }, async (c) => {
    const t = await serverFor(c);
    const service = c.reaches?.();
    const before = service?.requests ?? 0;
    const { result, last } = await fetchTurn(t, (await t.tenant(`tenant-${c.message}`)).api_key, c);
    expect(last).toBe('turn.completed');
    if (service) {
      expect(result).toMatchObject({ ok: true, result: { status: 200, body: 'loopback-only service' } });
      expect(service.requests).toBe(before + 1);
    } else {
      // Nothing of this test listens there: whatever the network says (a connection error, a
      // timeout, another host's answer), it is not the egress refusal any more.
      expect(String(result.error ?? '')).not.toContain('egress refused');
    }
  });

  it('without SOMA_ALLOW_SCRIPTED_MODELS a capsule\'s scripted model is refused, and the message quotes nothing', async () => {
    const t = await startTestSoma({ driver: 'pglite', script: script() });
    try {
      const key = (await t.tenant()).api_key;
      for (const model of [`scripted:${t.scriptFile}`, 'scripted:/etc/passwd']) {
        const scripted = await t.request('POST', '/v1/capsules', { key, body: { name: 'c', system_prompt: 's', model } });
        expect(scripted.status).toBe(400);
        const { error } = (await scripted.json()) as { error: { code: string; message: string } };
        expect(error).toMatchObject({ code: 'MODEL_NOT_ALLOWED', message: 'model: scripted models are not enabled on this server (SOMA_ALLOW_SCRIPTED_MODELS)' });
      }
    } finally {
      await t.close();
    }
  });
});
