import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSoma, type TestSoma } from '../support/soma.js';
import { services } from '../support/services.js';

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('/readyz checks every configured dependency', () => {
  let t: TestSoma;
  beforeAll(async () => {
    const port = await deadPort();
    t = await startTestSoma({
      driver: 'pglite',
      script: { turns: [{ iterations: [{ text: 'x' }] }] },
      env: { OPA_URL: `http://127.0.0.1:${port}`, SOMA_BRAIN_URL: `http://127.0.0.1:${port}`, KAFKA_BROKERS: `127.0.0.1:${port}` },
    });
  });
  afterAll(async () => t?.close());

  it('answers 503 naming each dependency that fails, with the database ok', async () => {
    const response = await t.request('GET', '/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('not_ready');
    expect(body.checks.database).toBe('ok');
    for (const name of ['opa', 'brain', 'kafka']) expect(body.checks[name]).toMatch(/^failing: /);
  });

  it.skipIf(!services.kafkaBrokers)('is ready when the configured Kafka answers', async () => {
    const ok = await startTestSoma({ driver: 'pglite', script: { turns: [{ iterations: [{ text: 'x' }] }] }, env: { KAFKA_BROKERS: services.kafkaBrokers! } });
    try {
      const body = (await (await ok.request('GET', '/readyz')).json()) as { status: string; checks: Record<string, string> };
      expect(body).toMatchObject({ status: 'ready', checks: { database: 'ok', kafka: 'ok' } });
    } finally {
      await ok.close();
    }
  });
});
