import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../../ports/tools.js';
import { createOpaHttpPolicy } from './opa-http-policy.js';

const input: PolicyInput = {
  action: 'tool.execute',
  tenant: 't',
  capsule: { id: 'c', tools: ['calculator'], tool_policy: {} },
  user: 'u',
  tool: 'calculator',
  args: { expression: '1+1' },
  iteration: 0,
};

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A stand-in OPA answering with `handler`; records what it was sent. */
async function serve(handler: (body: string, respond: (status: number, body: string) => void) => void) {
  const seen: { path: string; body: string }[] = [];
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ path: `${request.method} ${request.url}`, body });
      handler(body, (status, text) => response.writeHead(status, { 'content-type': 'application/json' }).end(text));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`, seen };
}

describe('createOpaHttpPolicy', () => {
  it('posts {input} to /v1/data/soma/tools and returns the decision', async () => {
    const { url, seen } = await serve((_body, respond) => respond(200, JSON.stringify({ result: { allow: false, reason: 'nope' } })));
    const decision = await createOpaHttpPolicy({ url }).decide(input);
    expect(decision).toEqual({ allow: false, engine: 'opa-http', reason: 'nope' });
    expect(seen[0]!.path).toBe('POST /v1/data/soma/tools');
    expect(JSON.parse(seen[0]!.body)).toEqual({ input });
  });

  it('denies on a non-200 answer', async () => {
    const { url } = await serve((_body, respond) => respond(500, '{"code":"internal_error"}'));
    const decision = await createOpaHttpPolicy({ url }).decide(input);
    expect(decision.allow).toBe(false);
    expect(decision.reason).toMatch(/^policy engine unavailable: .* answered 500$/);
  });

  it('denies when the answer has no decision or is not JSON', async () => {
    const missing = await serve((_body, respond) => respond(200, '{}'));
    expect((await createOpaHttpPolicy({ url: missing.url }).decide(input)).reason).toContain('no soma.tools decision');
    await new Promise((resolve) => server!.close(resolve));
    const garbage = await serve((_body, respond) => respond(200, 'allow'));
    expect((await createOpaHttpPolicy({ url: garbage.url }).decide(input)).reason).toContain('without a JSON body');
  });

  it('denies when the server does not answer in time', async () => {
    const { url } = await serve(() => undefined);
    const started = Date.now();
    const decision = await createOpaHttpPolicy({ url, timeoutMs: 150 }).decide(input);
    expect(decision.allow).toBe(false);
    expect(decision.reason).toContain('within 150 ms');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('denies when nothing listens', async () => {
    const { url } = await serve(() => undefined);
    server!.close();
    server = undefined;
    const decision = await createOpaHttpPolicy({ url }).decide(input);
    expect(decision.allow).toBe(false);
    expect(decision.reason).toMatch(/unreachable \(ECONNREFUSED\)/);
  });
});
