import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityConfig } from '../../../ports/tools.js';
import { createEgressPolicy, type EgressPolicy } from '../../egress/index.js';
import { createHttpFetchTool } from './http-fetch-tool.js';

let server: Server;
let port: number;
/** The operator lets tools reach this loopback test server (SOMA_EGRESS_ALLOW=127.0.0.1). */
let egress: EgressPolicy;
/** No operator exceptions: loopback is refused whatever the capsule says. */
let strict: EgressPolicy;
const requests: string[] = [];
/** The `authorization` and `x-api-key` headers each request came with (host, header values). */
const credentials: { host: string | undefined; authorization: string | undefined; apiKey: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    credentials.push({ host: request.headers.host, authorization: request.headers.authorization, apiKey: request.headers['x-api-key'] as string | undefined });
    if (request.url === '/hello') return void response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('héllo from 127.0.0.1');
    if (request.url === '/big') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('é'.repeat(5_000));
    if (request.url === '/same-host-redirect') return void response.writeHead(302, { location: '/hello' }).end();
    if (request.url === '/other-host-redirect') return void response.writeHead(302, { location: `http://localhost:${port}/hello` }).end();
    if (request.url === '/to-loopback') return void response.writeHead(302, { location: `http://127.0.0.1:${port}/hello` }).end();
    if (request.url === '/slow') return void setTimeout(() => response.writeHead(200).end('late'), 2_000);
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  egress = createEgressPolicy({ allow: ['127.0.0.1'] });
  strict = createEgressPolicy();
});
afterAll(async () => {
  await egress.close();
  await strict.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const context = () => ({ tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal });
const fetchTool = (config: CapabilityConfig['config'], policy = egress) =>
  createHttpFetchTool({ capability: { name: 'http_fetch', kind: 'builtin', enabled: true, config }, fetch: policy.fetch });

describe('http_fetch', () => {
  it('fetches from an allow-listed local server', async () => {
    const result = await fetchTool({ allowed_hosts: ['127.0.0.1'] }).execute({ url: `http://127.0.0.1:${port}/hello` }, context());
    expect(result).toEqual({ url: `http://127.0.0.1:${port}/hello`, status: 200, content_type: 'text/plain; charset=utf-8', body: 'héllo from 127.0.0.1', truncated: false });
  });

  it('returns non-2xx answers as results', async () => {
    const result = await fetchTool({ allowed_hosts: [`127.0.0.1:${port}`] }).execute({ url: `http://127.0.0.1:${port}/missing` }, context());
    expect(result).toMatchObject({ status: 404, content_type: 'application/json', body: '{"error":"not found"}' });
  });

  it('refuses a host that is not on the allow-list, without sending a request', async () => {
    const before = requests.length;
    await expect(fetchTool({ allowed_hosts: ['example.org'] }).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(
      `host 127.0.0.1:${port} is not on the allow-list of http_fetch`,
    );
    await expect(fetchTool({ allowed_hosts: ['127.0.0.1:1'] }).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/allow-list/);
    expect(requests.length).toBe(before);
  });

  it('an allow-listed address matches however it is spelt (the URL spells it in its normal form)', async () => {
    // new URL() writes http://[::ffff:127.0.0.1]/ as [::ffff:7f00:1]; the operator allows 127.0.0.1, which covers it.
    for (const entry of ['[::ffff:127.0.0.1]', '::ffff:127.0.0.1', `[::FFFF:127.0.0.1]:${port}`]) {
      const result = await fetchTool({ allowed_hosts: [entry] }).execute({ url: `http://[::ffff:127.0.0.1]:${port}/hello` }, context());
      expect(result).toMatchObject({ status: 200, body: 'héllo from 127.0.0.1' });
    }
    await expect(fetchTool({ allowed_hosts: ['[::ffff:127.0.0.1]:1'] }).execute({ url: `http://[::ffff:127.0.0.1]:${port}/hello` }, context())).rejects.toThrow(/allow-list/);
  });

  it('denies everything when the allow-list is empty or missing', async () => {
    await expect(fetchTool({ allowed_hosts: [] }).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/allow-list/);
    await expect(fetchTool(undefined).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/allow-list/);
  });

  it('refuses other schemes and credentials', async () => {
    const tool = fetchTool({ allowed_hosts: ['127.0.0.1'] });
    await expect(tool.execute({ url: 'file:///etc/passwd' }, context())).rejects.toThrow(/only http and https/);
    await expect(tool.execute({ url: `http://a:b@127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/credentials/);
  });

  it('follows a redirect to an allow-listed host and refuses one to a host off the list', async () => {
    expect(await fetchTool({ allowed_hosts: ['127.0.0.1'] }).execute({ url: `http://127.0.0.1:${port}/same-host-redirect` }, context())).toMatchObject({
      url: `http://127.0.0.1:${port}/hello`,
      body: 'héllo from 127.0.0.1',
    });
    const before = requests.length;
    await expect(fetchTool({ allowed_hosts: ['127.0.0.1'] }).execute({ url: `http://127.0.0.1:${port}/other-host-redirect` }, context())).rejects.toThrow(
      `redirect from 127.0.0.1:${port} to localhost:${port} refused: not on the allow-list of http_fetch`,
    );
    expect(requests.slice(before)).toEqual(['GET /other-host-redirect']);
  });

  it('a redirect to another allow-listed host is followed, through the egress check (localhost resolves to the allowed 127.0.0.1)', async () => {
    const before = requests.length;
    await expect(fetchTool({ allowed_hosts: ['127.0.0.1', 'localhost'] }).execute({ url: `http://127.0.0.1:${port}/other-host-redirect` }, context())).resolves.toMatchObject({
      body: 'héllo from 127.0.0.1',
    });
    expect(requests.slice(before)).toEqual(['GET /other-host-redirect', 'GET /hello']);
  });

  it('the capsule cannot widen egress: loopback allow-listed by the capsule is refused without the operator', async () => {
    const before = requests.length;
    for (const url of [`http://127.0.0.1:${port}/hello`, `http://localhost:${port}/hello`, `http://[::ffff:127.0.0.1]:${port}/hello`]) {
      const host = new URL(url).hostname;
      await expect(fetchTool({ allowed_hosts: ['127.0.0.1', 'localhost', host] }, strict).execute({ url }, context())).rejects.toThrow(/^egress refused: .*not a public address \(loopback\)/);
    }
    expect(requests.length).toBe(before);
  });

  it('a public-looking host that redirects to loopback is refused at the redirect, even when the capsule allow-lists loopback', async () => {
    // public.test stands for a public host: a test resolver points it here and the operator allows it by name.
    const publicLooking = createEgressPolicy({ allow: ['public.test'], resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    try {
      const before = requests.length;
      await expect(
        fetchTool({ allowed_hosts: ['public.test', '127.0.0.1'] }, publicLooking).execute({ url: `http://public.test:${port}/to-loopback` }, context()),
      ).rejects.toThrow('egress refused: 127.0.0.1 is not a public address (loopback); the operator can allow it in SOMA_EGRESS_ALLOW');
      expect(requests.slice(before)).toEqual(['GET /to-loopback']);
    } finally {
      await publicLooking.close();
    }
  });

  it('cuts the body at max_bytes without splitting a character', async () => {
    const result = (await fetchTool({ allowed_hosts: ['127.0.0.1'], max_bytes: 1001 }).execute({ url: `http://127.0.0.1:${port}/big` }, context())) as {
      body: string;
      truncated: boolean;
    };
    expect(result.truncated).toBe(true);
    expect(result.body).toBe('é'.repeat(500));
  });

  it('gives up after timeout_ms', async () => {
    const started = Date.now();
    await expect(fetchTool({ allowed_hosts: ['127.0.0.1'], timeout_ms: 200 }).execute({ url: `http://127.0.0.1:${port}/slow` }, context())).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('sends the capability\'s headers to the URL\'s origin, never to another origin a redirect leads to', async () => {
    const headers = { Authorization: 'Bearer sk-capability-secret', 'X-Api-Key': 'key-123' };
    const before = credentials.length;
    await fetchTool({ allowed_hosts: ['127.0.0.1', 'localhost'], headers }).execute({ url: `http://127.0.0.1:${port}/same-host-redirect` }, context());
    await fetchTool({ allowed_hosts: ['127.0.0.1', 'localhost'], headers }).execute({ url: `http://127.0.0.1:${port}/other-host-redirect` }, context());
    expect(credentials.slice(before)).toEqual([
      { host: `127.0.0.1:${port}`, authorization: 'Bearer sk-capability-secret', apiKey: 'key-123' },
      { host: `127.0.0.1:${port}`, authorization: 'Bearer sk-capability-secret', apiKey: 'key-123' },
      { host: `127.0.0.1:${port}`, authorization: 'Bearer sk-capability-secret', apiKey: 'key-123' },
      { host: `localhost:${port}`, authorization: undefined, apiKey: undefined },
    ]);
  });

  it.each([
    [{ host: 'evil.example' }, 'config.headers: host cannot be set by a capability'],
    [{ 'Proxy-Authorization': 'x' }, 'config.headers: proxy-authorization cannot be set by a capability'],
    [{ 'bad name': 'x' }, 'config.headers: "bad name" is not a header name'],
    [{ 'x-a': 'one\r\nx-b: two' }, 'config.headers: the value of x-a must be a single-line string'],
    [{ 'x-a': 3 }, 'config.headers: the value of x-a must be a single-line string'],
    [['x'], 'config.headers must map header names to strings'],
  ])('refuses headers %j with a message that quotes no value, sending nothing', async (headers, message) => {
    const before = requests.length;
    await expect(fetchTool({ allowed_hosts: ['127.0.0.1'], headers } as CapabilityConfig['config']).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(message);
    expect(requests.length).toBe(before);
  });
});
