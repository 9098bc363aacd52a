/**
 * The HTTP server's connection handling through a real socket: a keep-alive client whose request
 * was refused with 413 can send its next request (SPEC §13.1 / issue 9).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSoma, type TestSoma } from '../support/soma.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The local port of the socket it came over (the same port = the same connection). */
  socketPort: number | undefined;
}

/** One request on `agent`; resolves with the answer, rejects on a socket error. */
function request(agent: http.Agent, port: number, { method = 'GET', path = '/healthz', headers = {}, body }: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), socketPort: req.socket?.localPort }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe('a keep-alive client after a 413', () => {
  let t: TestSoma;
  let port: number;
  let key: string;
  beforeAll(async () => {
    t = await startTestSoma({ driver: 'pglite', script: { turns: [{ iterations: [{ text: 'Hi.', confidence: 0.95, final: true }] }] } });
    port = (await t.soma.listen({ port: 0, host: '127.0.0.1' })).port;
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['just over the limit', 1024 * 1024 + 1],
    ['several times the limit', 6 * 1024 * 1024],
  ])('a body %s gets 413, and the next request on the same agent succeeds', async (_label, size) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const warm = await request(agent, port);
      expect(warm.status).toBe(200);
      const big = JSON.stringify({ name: 'x', system_prompt: 'y'.repeat(size) });
      const refused = await request(agent, port, { method: 'POST', path: '/v1/capsules', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: big });
      expect(refused.status).toBe(413);
      expect(refused.headers.connection).toBe('close');
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
      for (let i = 0; i < 3; i += 1) {
        const next = await request(agent, port, { path: '/v1/capsules', headers: { authorization: `Bearer ${key}` } });
        expect(next.status).toBe(200);
        expect(JSON.parse(next.body)).toMatchObject({ capsules: [] });
      }
    } finally {
      agent.destroy();
    }
  });

  it('a chunked body over the limit (no content-length) gets 413 too, and the agent goes on', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answer = await new Promise<Answer>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/capsules', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'transfer-encoding': 'chunked' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), socketPort: req.socket?.localPort }));
        });
        req.on('error', reject);
        const chunk = 'y'.repeat(64 * 1024);
        req.write(`{"name":"x","system_prompt":"`);
        for (let i = 0; i < 24; i += 1) req.write(chunk);
        req.end('"}');
      });
      expect(answer.status).toBe(413);
      const next = await request(agent, port, { path: '/v1/capsules', headers: { authorization: `Bearer ${key}` } });
      expect(next.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});
