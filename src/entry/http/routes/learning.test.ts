import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBrain, createLocalBrain, type LocalBrain } from '../../../adapters/brain/index.js';
import { cryptoIdSource } from '../../../adapters/ids/index.js';
import { createDrizzleStore, tables, type Database } from '../../../adapters/store/index.js';
import { loadConfig } from '../../../config.js';
import { defaultLearnedState } from '../../../core/learning/index.js';
import { createBrainServer } from '../../../main.js';
import type { Brain } from '../../../ports/brain.js';
import { systemClock } from '../../../ports/clock.js';
import { createBrainTestApp } from '../../../../test/support/brain-test-app.js';
import { insertTenantWithCapsule } from '../../../../test/support/capsules.js';
import { drivers, freshDatabase } from '../../../../test/support/databases.js';
import { learningRoutes } from './learning.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON of API answers, checked field by field
type Json = Record<string, any>;

const SERVICE_TOKEN = 'brain-service-token-0123456789';

/**
 * The learning routes run through the Brain port against both brains: the in-process one, and a
 * remote one — `soma brain serve`'s app (`createBrainServer`, on the same database) reached by the HTTP
 * brain in process, with the service token and the tenant header.
 */
describe.each(drivers().flatMap((driver) => [[driver, 'in-process'], [driver, 'remote']] as const))('learning history, rollback and reset on %s with the %s brain', (driver, where) => {
  let database: Database;
  let drop: () => Promise<void>;
  /** Learns directly (what turns do), whichever brain the routes use. */
  let brain: LocalBrain;
  let app: ReturnType<typeof createBrainTestApp>;

  beforeAll(async () => {
    ({ database, drop } = await freshDatabase(driver));
    brain = createLocalBrain({ database });
    let routesBrain: Brain = brain;
    if (where === 'remote') {
      const server = await createBrainServer({ config: loadConfig({ SOMA_ADMIN_TOKEN: SERVICE_TOKEN, SOMA_DATA_DIR: os.tmpdir() }), database });
      const inProcess = (async (input: string | URL | Request, init?: RequestInit) => server.app.request(String(input), init)) as typeof fetch;
      routesBrain = createHttpBrain({ url: 'http://brain.internal', token: SERVICE_TOKEN, fetch: inProcess });
    }
    app = createBrainTestApp(learningRoutes({ brain: routesBrain, store: createDrizzleStore(database), ids: cryptoIdSource, clock: systemClock }));
  });
  afterAll(async () => {
    await drop();
  });

  const call = async (method: string, path: string, tenant: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const response = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${tenant}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  /** Three turns of two iterations each, every step learning (high novelty). */
  async function learnThreeTurns(scope: { tenantId: string; capsuleId: string }): Promise<string[]> {
    const turns = [randomUUID(), randomUUID(), randomUUID()];
    let k = 0;
    for (const turn of turns) {
      for (const iteration of [0, 1]) {
        k += 1;
        await brain.publishTurnMetrics({
          capsule_id: scope.capsuleId,
          tenant: scope.tenantId,
          turn_id: turn,
          iteration_number: iteration,
          tools_used: [],
          confidence: k % 2 === 0 ? 0.95 : 0.2,
          convergence_score: 0.5,
          tool_success_rate: 1,
          latency_ms: 800,
          prompt_tokens: 1000,
          completion_tokens: 100,
          novelty: 0.9,
          seed: 77 + k,
        });
      }
    }
    return turns;
  }

  it('pages the history oldest first, each row chained to the previous one', async () => {
    const scope = await insertTenantWithCapsule(database);
    const turns = await learnThreeTurns(scope);
    const first = await call('GET', `/v1/capsules/${scope.capsuleId}/learning?limit=4`, scope.tenantId);
    expect(first.status).toBe(200);
    expect(first.body.learning_version).toBe(6);
    expect(first.body.history.map((row: Json) => row.seq)).toEqual([1, 2, 3, 4]);
    expect(first.body.history[0]).toMatchObject({ turn_id: turns[0], iteration_number: 0, kind: 'learn' });
    expect(first.body.next_cursor).toBe('4');
    const second = await call('GET', `/v1/capsules/${scope.capsuleId}/learning?limit=4&cursor=${first.body.next_cursor}`, scope.tenantId);
    expect(second.body.history.map((row: Json) => row.seq)).toEqual([5, 6]);
    expect(second.body.next_cursor).toBeNull();
    const all = [...first.body.history, ...second.body.history];
    for (let i = 1; i < all.length; i += 1) {
      expect(all[i].weights_before).toEqual(all[i - 1].weights_after);
      expect(all[i].neuromodulators_before).toEqual(all[i - 1].neuromodulators_after);
    }
    expect(first.body.weights).toEqual(all.at(-1).weights_after);
    expect(typeof all[0].reward).toBe('number');
  });

  it('rolls back to a turn: restores the weights_before of its first update, appends a row and an event', async () => {
    const scope = await insertTenantWithCapsule(database);
    const turns = await learnThreeTurns(scope);
    const history = (await call('GET', `/v1/capsules/${scope.capsuleId}/learning`, scope.tenantId)).body.history as Json[];
    const target = history.find((row) => row.turn_id === turns[1])!;
    expect(target.seq).toBe(3);

    const rolled = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, scope.tenantId, { to_turn_id: turns[1] });
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ seq: 7, learning_version: 7, restored_from_seq: 3, weights: target.weights_before, neuromodulators: target.neuromodulators_before });
    expect(rolled.body.reward_baseline).toBe(target.reward_baseline_before);

    const state = await brain.getState(scope);
    expect(state.weights).toEqual(target.weights_before);
    expect(state.neuromodulators).toEqual(target.neuromodulators_before);
    expect(state.rewardBaseline).toBe(target.reward_baseline_before);

    const after = (await call('GET', `/v1/capsules/${scope.capsuleId}/learning`, scope.tenantId)).body.history as Json[];
    const row = after.at(-1)!;
    expect(row).toMatchObject({ seq: 7, kind: 'rollback', turn_id: null, weights_before: history.at(-1)!.weights_after, weights_after: target.weights_before });

    const events = await database.db.select().from(tables.outboxMessages).where(and(eq(tables.outboxMessages.tenantId, scope.tenantId), eq(tables.outboxMessages.eventType, 'learning.rolled_back')));
    expect(events).toHaveLength(1);
    expect(events[0]!.idempotencyKey).toBe(`learning.rolled_back:${scope.capsuleId}:7`);
    expect((events[0]!.payload as Json).payload).toMatchObject({ seq: 7, to_turn_id: turns[1], restored_from_seq: 3 });

    // Learning continues from the restored state, on the same chain.
    const next = await brain.publishTurnMetrics({
      capsule_id: scope.capsuleId, tenant: scope.tenantId, turn_id: randomUUID(), iteration_number: 0, tools_used: [], confidence: 0.6,
      convergence_score: 0.6, tool_success_rate: 1, latency_ms: 500, prompt_tokens: 100, completion_tokens: 10, novelty: 0.9, seed: 5,
    });
    expect(next.seq).toBe(8);
    expect(next.before!.weights).toEqual(target.weights_before);
  });

  it('rolls back to a seq, and resets to the defaults', async () => {
    const scope = await insertTenantWithCapsule(database);
    await learnThreeTurns(scope);
    const history = (await call('GET', `/v1/capsules/${scope.capsuleId}/learning`, scope.tenantId)).body.history as Json[];
    const rolled = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, scope.tenantId, { to_seq: 5 });
    expect(rolled.body.weights).toEqual(history[4]!.weights_before);
    expect(rolled.body.weights).toEqual(history[3]!.weights_after);

    const reset = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/reset`, scope.tenantId);
    expect(reset.status).toBe(200);
    const defaults = defaultLearnedState();
    expect(reset.body).toMatchObject({ seq: 8, weights: defaults.weights, neuromodulators: defaults.neuromodulators, reward_baseline: defaults.rewardBaseline });
    const state = await brain.getState(scope);
    expect(state).toEqual({ ...defaults, learning_version: 8 });
    const events = await database.db.select().from(tables.outboxMessages).where(eq(tables.outboxMessages.tenantId, scope.tenantId));
    expect(events.map((event) => event.eventType).sort()).toEqual(['learning.reset', 'learning.rolled_back']);

    // Rolling back past the reset restores the learned state again.
    const undo = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, scope.tenantId, { to_seq: 8 });
    expect(undo.body.weights).toEqual(rolled.body.weights);
  });

  it('answers 404 for unknown points and other tenants, 400 for a bad body, and writes nothing then', async () => {
    const scope = await insertTenantWithCapsule(database);
    const stranger = await insertTenantWithCapsule(database);
    await learnThreeTurns(scope);
    const unknownSeq = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, scope.tenantId, { to_seq: 99 });
    expect(unknownSeq.status).toBe(404);
    expect(unknownSeq.body.error.code).toBe('LEARNING_POINT_NOT_FOUND');
    const unknownTurn = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, scope.tenantId, { to_turn_id: randomUUID() });
    expect(unknownTurn.body.error.code).toBe('LEARNING_POINT_NOT_FOUND');
    const both = await call('POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, scope.tenantId, { to_seq: 1, to_turn_id: randomUUID() });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe('VALIDATION_FAILED');
    for (const [method, path, body] of [
      ['GET', `/v1/capsules/${scope.capsuleId}/learning`, undefined],
      ['POST', `/v1/capsules/${scope.capsuleId}/learning/rollback`, { to_seq: 1 }],
      ['POST', `/v1/capsules/${scope.capsuleId}/learning/reset`, undefined],
    ] as const) {
      const hidden = await call(method, path, stranger.tenantId, body);
      expect(hidden.status).toBe(404);
      expect(hidden.body.error.code).toBe('CAPSULE_NOT_FOUND');
    }
    expect((await brain.getState(scope)).learning_version).toBe(6);
  });
});
