import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBrain, createLocalBrain } from '../../../adapters/brain/index.js';
import type { Database } from '../../../adapters/store/index.js';
import { isSomaError } from '../../../shared/errors.js';
import { createBrainTestApp } from '../../../../test/support/brain-test-app.js';
import { insertTenantWithCapsule } from '../../../../test/support/capsules.js';
import { drivers, freshDatabase } from '../../../../test/support/databases.js';
import { brainRoutes } from './brain.js';

const metrics = (capsuleId: string, i: number) => ({
  capsule_id: capsuleId,
  turn_id: randomUUID(),
  iteration_number: 0,
  tools_used: [],
  confidence: 0.9,
  convergence_score: 0.8,
  tool_success_rate: 1,
  latency_ms: 1200,
  prompt_tokens: 900,
  completion_tokens: 100,
  novelty: 0.7,
  seed: i,
});

async function failure(promise: Promise<unknown>): Promise<{ code?: string; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    return { code: isSomaError(error) ? error.code : 'non-soma', ms: performance.now() - started };
  }
  return { ms: performance.now() - started };
}

function listen(app: { fetch: (request: Request) => Response | Promise<Response> }, port = 0): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(server));
    server.once('error', reject);
  });
}

const close = (server: ServerType) => new Promise<void>((done) => server.close(() => done()));

describe.each(drivers())('brain routes on %s', (driver) => {
  let database: Database;
  let drop: () => Promise<void>;
  let scope: { tenantId: string; capsuleId: string };
  let app: ReturnType<typeof createBrainTestApp>;

  beforeAll(async () => {
    ({ database, drop } = await freshDatabase(driver));
    scope = await insertTenantWithCapsule(database);
    app = createBrainTestApp(brainRoutes({ brain: createLocalBrain({ database }) }));
  });
  afterAll(async () => {
    await drop();
  });

  const post = (path: string, body: unknown, tenant = scope.tenantId) =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant}` }, body: JSON.stringify(body) });

  it('publishes turn metrics and returns the step with the state it started from', async () => {
    const response = await post('/v1/learning/publish_turn_metrics', { ...metrics(scope.capsuleId, 1), tenant: scope.tenantId });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      seq: number;
      weights: Record<string, number>;
      reward: number;
      before: { weights: Record<string, number>; reward_baseline: number };
      after: { weights: Record<string, number>; reward_baseline: number };
    };
    expect(body.status).toBe('success');
    expect(body.seq).toBe(1);
    expect(body.before.weights.alpha).toBe(1);
    expect(body.before.reward_baseline).toBe(1);
    expect(body.after.weights).toEqual(body.weights);
    // r = (0.5 + 0.5·(0.9 − 0.5)) + 0.5·1: self-confidence counts at half weight.
    expect(body.reward).toBeCloseTo(1.2, 12);

    const state = await app.request(`/v1/learning/state?capsule_id=${scope.capsuleId}`, { headers: { authorization: `Bearer ${scope.tenantId}` } });
    expect(state.status).toBe(200);
    expect(await state.json()).toMatchObject({ learning_version: 1, weights: body.weights, reward_baseline: body.after.reward_baseline });
  });

  it('answers 400 naming the field for bad metrics, 404 for another tenant', async () => {
    const bad = await post('/v1/learning/publish_turn_metrics', { ...metrics(scope.capsuleId, 2), confidence: 3 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error).toMatchObject({ code: 'VALIDATION_FAILED' });
    const stranger = await insertTenantWithCapsule(database);
    const hidden = await post('/v1/learning/publish_turn_metrics', metrics(scope.capsuleId, 3), stranger.tenantId);
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as { error: { code: string } }).error.code).toBe('CAPSULE_NOT_FOUND');
    const spoofed = await post('/v1/learning/publish_turn_metrics', { ...metrics(scope.capsuleId, 3), tenant: stranger.tenantId });
    expect(spoofed.status).toBe(404);
  });

  it('remembers and recalls over HTTP, scoped to the caller', async () => {
    expect((await post('/v1/memory/remember', { capsule_id: scope.capsuleId, key: 'vpn', content: 'The VPN gateway is vpn.example.net', importance: 0.8 })).status).toBe(200);
    await post('/v1/memory/remember', { capsule_id: scope.capsuleId, key: 'lunch', content: 'Lunch is served at noon' });
    const recalled = await post('/v1/memory/recall', { capsule_id: scope.capsuleId, query: 'which vpn gateway?', top_k: 1 });
    expect(recalled.status).toBe(200);
    const body = (await recalled.json()) as { results: { key: string; score: number }[] };
    expect(body.results).toHaveLength(1);
    expect(body.results[0]!.key).toBe('vpn');
    const stranger = await insertTenantWithCapsule(database);
    expect((await post('/v1/memory/recall', { capsule_id: scope.capsuleId, query: 'vpn', top_k: 1 }, stranger.tenantId)).status).toBe(404);
  });

  it('serves a remote brain: calls fail fast while it is down and succeed again after a restart', async () => {
    let server = await listen(app);
    const port = (server.address() as AddressInfo).port;
    const remote = createHttpBrain({ url: `http://127.0.0.1:${port}`, apiKey: scope.tenantId, timeoutMs: 2_000 });
    expect(remote.health()).toBe('unknown');
    const first = await remote.publishTurnMetrics({ ...metrics(scope.capsuleId, 10), tenant: scope.tenantId });
    expect(first.status).toBe('success');
    expect(remote.health()).toBe('healthy');
    const version = (await remote.getState(scope)).learning_version;
    expect(version).toBe(first.seq);

    await close(server);
    for (let i = 0; i < 3; i += 1) {
      const down = await failure(remote.publishTurnMetrics({ ...metrics(scope.capsuleId, 20 + i), tenant: scope.tenantId }));
      expect(down.code).toBe('BRAIN_UNAVAILABLE');
      expect(down.ms).toBeLessThan(500);
    }
    expect(remote.health()).toBe('unhealthy');
    expect((await failure(remote.recall(scope, { query: 'vpn', top_k: 1 }))).code).toBe('BRAIN_UNAVAILABLE');

    server = await listen(app, port);
    try {
      const back = await remote.publishTurnMetrics({ ...metrics(scope.capsuleId, 30), tenant: scope.tenantId });
      expect(back.seq).toBe(version + 1);
      // The failed calls wrote nothing: the step after the restart starts from the last successful one's state.
      expect(back.before!.weights).toEqual(first.weights);
      expect(remote.health()).toBe('healthy');
      expect((await remote.recall(scope, { query: 'vpn gateway', top_k: 1 }))[0]!.key).toBe('vpn');
      // A brain that answers with an error is up: the code comes through, health stays healthy.
      expect((await failure(remote.getState({ tenantId: scope.tenantId, capsuleId: randomUUID() }))).code).toBe('CAPSULE_NOT_FOUND');
      expect(remote.health()).toBe('healthy');
    } finally {
      await close(server);
    }
  });

  it('times out a hung brain after SOMA_BRAIN_TIMEOUT_MS and marks it unhealthy', async () => {
    const hung = await listen({ fetch: () => new Promise<Response>(() => undefined) });
    try {
      const remote = createHttpBrain({ url: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`, apiKey: scope.tenantId, timeoutMs: 150 });
      const result = await failure(remote.publishTurnMetrics({ ...metrics(scope.capsuleId, 40), tenant: scope.tenantId }));
      expect(result.code).toBe('BRAIN_UNAVAILABLE');
      expect(result.ms).toBeGreaterThanOrEqual(140);
      expect(result.ms).toBeLessThan(1_000);
      expect(remote.health()).toBe('unhealthy');
    } finally {
      (hung as import('node:http').Server).closeAllConnections();
      await close(hung);
    }
  });
});
