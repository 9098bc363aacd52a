import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityConfig } from '../../../ports/tools.js';
import { createHttpFetchTool } from './http-fetch-tool.js';

let server: Server;
let port: number;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.url === '/hello') return void response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('héllo from 127.0.0.1');
    if (request.url === '/big') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('é'.repeat(5_000));
    if (request.url === '/same-host-redirect') return void response.writeHead(302, { location: '/hello' }).end();
    if (request.url === '/other-host-redirect') return void response.writeHead(302, { location: `http://localhost:${port}/hello` }).end();
    if (request.url === '/slow') return void setTimeout(() => response.writeHead(200).end('late'), 2_000);
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const context = () => ({ tenantId: 't', capsuleId: 'c', userId: 'u', turnId: 'turn', iteration: 0, signal: new AbortController().signal });
const fetchTool = (config: CapabilityConfig['config']) => createHttpFetchTool({ capability: { name: 'http_fetch', kind: 'builtin', enabled: true, config } });

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

  it('denies everything when the allow-list is empty or missing', async () => {
    await expect(fetchTool({ allowed_hosts: [] }).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/allow-list/);
    await expect(fetchTool(undefined).execute({ url: `http://127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/allow-list/);
  });

  it('refuses other schemes and credentials', async () => {
    const tool = fetchTool({ allowed_hosts: ['127.0.0.1'] });
    await expect(tool.execute({ url: 'file:///etc/passwd' }, context())).rejects.toThrow(/only http and https/);
    await expect(tool.execute({ url: `http://a:b@127.0.0.1:${port}/hello` }, context())).rejects.toThrow(/credentials/);
  });

  it('follows a redirect on the same host and refuses one to another host', async () => {
    const tool = fetchTool({ allowed_hosts: ['127.0.0.1', 'localhost'] });
    expect(await tool.execute({ url: `http://127.0.0.1:${port}/same-host-redirect` }, context())).toMatchObject({
      url: `http://127.0.0.1:${port}/hello`,
      body: 'héllo from 127.0.0.1',
    });
    const before = requests.length;
    await expect(tool.execute({ url: `http://127.0.0.1:${port}/other-host-redirect` }, context())).rejects.toThrow(
      `redirect from 127.0.0.1:${port} to another host (localhost:${port}) refused`,
    );
    expect(requests.slice(before)).toEqual(['GET /other-host-redirect']);
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
});
