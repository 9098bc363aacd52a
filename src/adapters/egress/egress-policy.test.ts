import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { addressCategory, createEgressPolicy, EgressRefusedError, type Resolve } from './index.js';

// The sockets undici opens come from these modules: spying on them proves no connection was tried.
const require = createRequire(import.meta.url);
const net = require('node:net') as typeof import('node:net');
const tls = require('node:tls') as typeof import('node:tls');

interface Local {
  server: Server;
  port: number;
  connections: number;
  requests: string[];
}

/** A local HTTP server counting connections and requests (the only traffic these tests send). */
async function localServer(host: string): Promise<Local> {
  const local = { connections: 0, requests: [] as string[] } as Local;
  local.server = createServer((request, response) => {
    local.requests.push(`${request.method} ${request.url}`);
    const url = new URL(request.url!, 'http://x');
    if (url.pathname === '/to') return void response.writeHead(302, { location: url.searchParams.get('location')! }).end();
    if (url.pathname === '/loop') return void response.writeHead(302, { location: '/loop' }).end();
    if (url.pathname === '/post-see-other') return void response.writeHead(303, { location: '/hello' }).end();
    response.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${host} ${request.method} ${request.headers.authorization ?? '-'}`);
  });
  local.server.on('connection', () => (local.connections += 1));
  await new Promise<void>((resolve) => local.server.listen(0, host, resolve));
  local.port = (local.server.address() as AddressInfo).port;
  return local;
}

let v4: Local;
let v6: Local;
beforeAll(async () => {
  v4 = await localServer('127.0.0.1');
  v6 = await localServer('::1');
});
afterAll(async () => {
  for (const local of [v4, v6]) {
    local.server.closeAllConnections();
    await new Promise((resolve) => local.server.close(resolve));
  }
});
afterEach(() => vi.restoreAllMocks());

/** A resolver with names only tests use (others go to the system resolver); counts its lookups. */
function testResolver(table: Record<string, string>) {
  const calls: string[] = [];
  const resolve: Resolve = async (hostname) => {
    calls.push(hostname);
    const address = table[hostname];
    if (!address) return (await lookup(hostname, { all: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  return { resolve, calls };
}

/** Runs `fetch` and asserts it was refused before any socket was opened. */
async function expectRefusedWithoutConnecting(run: () => Promise<unknown>, reason: RegExp) {
  const connect = vi.spyOn(net, 'connect');
  const createConnection = vi.spyOn(net, 'createConnection');
  const tlsConnect = vi.spyOn(tls, 'connect');
  const before = v4.connections + v6.connections;
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressRefusedError);
  expect((error as Error).message).toMatch(reason);
  expect(connect).not.toHaveBeenCalled();
  expect(createConnection).not.toHaveBeenCalled();
  expect(tlsConnect).not.toHaveBeenCalled();
  expect(v4.connections + v6.connections).toBe(before);
}

describe('addressCategory (ipaddr.js ranges)', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['10.0.0.1', 'private'], ['172.16.5.4', 'private'], ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'], ['100.64.0.1', 'carrierGradeNat'], ['224.0.0.1', 'multicast'], ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'], ['240.0.0.1', 'reserved'], ['192.0.2.1', 'reserved'],
    ['::1', 'loopback'], ['[::1]', 'loopback'], ['::', 'unspecified'], ['fd12:3456::1', 'uniqueLocal'], ['fc00::1', 'uniqueLocal'], ['fe80::1', 'linkLocal'],
    ['ff02::1', 'multicast'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0:a9fe:a9fe', 'linkLocal'], ['64:ff9b::a9fe:a9fe', 'linkLocal'], ['64:ff9b::7f00:1', 'loopback'], ['2002:7f00:1::', 'loopback'],
    ['2002:a00:1::1', 'private'], ['::7f00:1', 'ipv4Compatible'], ['::808:808', 'ipv4Compatible'], ['::127.0.0.1', 'loopback'], ['2001::1', 'teredo'], ['64:ff9b:1::1', 'rfc6052'],
    ['8.8.8.8', 'unicast'], ['1.1.1.1', 'unicast'], ['2606:4700::1111', 'unicast'], ['::ffff:8.8.8.8', 'unicast'], ['64:ff9b::808:808', 'unicast'],
    ['2002:808:808::1', 'unicast'], ['not-an-ip', 'invalid'],
  ])('%s is %s', (address, category) => expect(addressCategory(address)).toBe(category));
});

describe('egress policy decisions', () => {
  it('allows only public unicast addresses by default', () => {
    const policy = createEgressPolicy();
    expect(policy.refusal('8.8.8.8')).toBeNull();
    expect(policy.refusal('2606:4700::1111')).toBeNull();
    for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:127.0.0.1', 'fd00::1', '100.64.1.1', '224.0.0.251']) {
      expect(policy.refusal(address)).toMatch(/not a public address/);
    }
    expect(policy.refusal('127.0.0.1', 'localhost')).toBe('localhost resolves to 127.0.0.1, which is not a public address (loopback); the operator can allow it in SOMA_EGRESS_ALLOW');
  });

  it('SOMA_EGRESS_ALLOW lists hosts, addresses and CIDRs (IPv4 ranges also cover their IPv6 mapped forms)', () => {
    const policy = createEgressPolicy({ allow: ['127.0.0.1', '10.0.0.0/8', '169.254.169.254', '[::1]', 'internal.test'] });
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '10.0.0.1', '10.200.3.4', '169.254.169.254', '::1']) expect(policy.refusal(address)).toBeNull();
    expect(policy.refusal('127.0.0.2')).toMatch(/loopback/);
    expect(policy.refusal('192.168.0.1')).toMatch(/private/);
    expect(policy.refusal('192.168.0.1', 'internal.test')).toBeNull();
    expect(policy.refusal('192.168.0.1', 'INTERNAL.test.')).toBeNull();
    expect(policy.refusal('192.168.0.1', 'other.test')).toMatch(/other\.test resolves to 192\.168\.0\.1/);
  });
});

describe('egress fetch: refusals happen before any connection', () => {
  const policy = createEgressPolicy({ resolve: testResolver({ 'public.test': '127.0.0.1', 'metadata.test': '169.254.169.254', 'ten.test': '10.0.0.1', 'v6.test': '::1' }).resolve });
  afterAll(() => policy.close());

  it.each([
    ['127.0.0.1', () => `http://127.0.0.1:${v4.port}/hello`, /127\.0\.0\.1 is not a public address \(loopback\)/],
    ['10.0.0.1', () => 'http://10.0.0.1/', /10\.0\.0\.1 is not a public address \(private\)/],
    ['169.254.169.254', () => 'http://169.254.169.254/latest/meta-data/', /\(linkLocal\)/],
    ['[::1]', () => `http://[::1]:${v6.port}/hello`, /::1 is not a public address \(loopback\)/],
    ['[::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${v4.port}/hello`, /::ffff:7f00:1 is not a public address \(loopback\)/],
    ['https to loopback', () => `https://127.0.0.1:${v4.port}/`, /loopback/],
    ['0x7f.1 (normalised by the URL parser)', () => `http://0x7f.1:${v4.port}/`, /127\.0\.0\.1 is not a public address/],
    ['localhost (system resolver)', () => `http://localhost:${v4.port}/hello`, /localhost resolves to 127\.0\.0\.1/],
    ['a test name resolving to loopback', () => `http://public.test:${v4.port}/hello`, /public\.test resolves to 127\.0\.0\.1/],
    ['a test name resolving to the metadata address', () => 'http://metadata.test/', /metadata\.test resolves to 169\.254\.169\.254/],
    ['a test name resolving to 10.0.0.1', () => 'https://ten.test/', /ten\.test resolves to 10\.0\.0\.1/],
    ['a test name resolving to ::1', () => `http://v6.test:${v6.port}/`, /v6\.test resolves to ::1/],
  ])('%s is refused', async (_label, url, reason) => {
    await expectRefusedWithoutConnecting(() => policy.fetch(url()), reason);
  });

  it('refuses other schemes', async () => {
    await expect(policy.fetch('file:///etc/passwd')).rejects.toThrow(/only http and https URLs, not file:/);
  });
});

describe('egress fetch: redirects are checked on every hop', () => {
  it('an allowed host that redirects to loopback is refused at the redirect, and the loopback target never sees a request', async () => {
    const resolver = testResolver({ 'public.test': '127.0.0.1' });
    const policy = createEgressPolicy({ allow: ['public.test'], resolve: resolver.resolve });
    try {
      v4.requests.length = 0;
      const target = `http://127.0.0.1:${v6.port}/secret`;
      const error = await policy.fetch(`http://public.test:${v4.port}/to?location=${encodeURIComponent(target)}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EgressRefusedError);
      expect((error as Error).message).toMatch(/127\.0\.0\.1 is not a public address \(loopback\)/);
      expect(v4.requests).toEqual([`GET /to?location=${encodeURIComponent(target)}`]);
      // The redirect to the IPv6 loopback form is refused the same way.
      const mapped = await policy.fetch(`http://public.test:${v4.port}/to?location=${encodeURIComponent(`http://[::1]:${v6.port}/secret`)}`).catch((e: unknown) => e);
      expect((mapped as Error).message).toMatch(/::1 is not a public address/);
      expect(v6.requests).toEqual([]);
    } finally {
      await policy.close();
    }
  });

  it('resolves each name once per connection: the address connected to is the one checked', async () => {
    const resolver = testResolver({ 'public.test': '127.0.0.1' });
    const policy = createEgressPolicy({ allow: ['public.test'], resolve: resolver.resolve });
    try {
      const response = await policy.fetch(`http://public.test:${v4.port}/hello`);
      expect(await response.text()).toBe('hello from 127.0.0.1 GET -');
      expect(resolver.calls).toEqual(['public.test']);
    } finally {
      await policy.close();
    }
  });

  it('follows at most maxRedirects redirects; "manual" hands back the 3xx', async () => {
    const policy = createEgressPolicy({ allow: ['127.0.0.1'], maxRedirects: 3 });
    try {
      await expect(policy.fetch(`http://127.0.0.1:${v4.port}/loop`)).rejects.toThrow('egress refused: more than 3 redirects');
      const manual = await policy.fetch(`http://127.0.0.1:${v4.port}/loop`, { redirect: 'manual' });
      expect([manual.status, manual.headers.get('location')]).toEqual([302, '/loop']);
      await manual.body?.cancel();
    } finally {
      await policy.close();
    }
  });

  it('a 303 after a POST becomes a GET, and credentials do not follow to another origin', async () => {
    const policy = createEgressPolicy({ allow: ['127.0.0.1', '::1'] });
    try {
      const seeOther = await policy.fetch(`http://127.0.0.1:${v4.port}/post-see-other`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer t' } });
      expect(await seeOther.text()).toBe('hello from 127.0.0.1 GET Bearer t');
      const crossOrigin = await policy.fetch(`http://127.0.0.1:${v4.port}/to?location=${encodeURIComponent(`http://[::1]:${v6.port}/hello`)}`, { headers: { authorization: 'Bearer t' } });
      expect(await crossOrigin.text()).toBe('hello from ::1 GET -');
    } finally {
      await policy.close();
    }
  });
});

describe('egress fetch: what SOMA_EGRESS_ALLOW lists is reachable', () => {
  it.each([
    [['127.0.0.1'], () => `http://127.0.0.1:${v4.port}/hello`, 'hello from 127.0.0.1 GET -'],
    [['127.0.0.0/8'], () => `http://[::ffff:127.0.0.1]:${v4.port}/hello`, 'hello from 127.0.0.1 GET -'],
    [['::1'], () => `http://[::1]:${v6.port}/hello`, 'hello from ::1 GET -'],
    [['localhost'], () => `http://localhost:${v4.port}/hello`, 'hello from 127.0.0.1 GET -'],
  ])('allow %j', async (allow, url, body) => {
    const policy = createEgressPolicy({ allow });
    // The same spy sees the connection here: the refusal tests above would see one too.
    const connect = vi.spyOn(net, 'connect');
    try {
      const response = await policy.fetch(url());
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(body);
      expect(connect).toHaveBeenCalledTimes(1);
    } finally {
      await policy.close();
    }
  });
});
