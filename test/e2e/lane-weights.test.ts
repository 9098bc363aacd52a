import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTiktokens } from '../../src/adapters/model/tiktoken-counter.js';
import { allocateLanes, selectMemoryLane } from '../../src/core/context/index.js';
import { defaultLearnedState } from '../../src/core/learning/index.js';
import type { Weights } from '../../src/ports/learning.js';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * SPEC §13.2 "every weight acts in every turn": for each of α β γ τ λ μ ν, two capsules that differ only
 * in that weight answer the same question over the same memories through the real turn path
 * (`POST …/messages`, scripted model, the brain's recall, the database); the lane each turn used (its
 * trace) differs as the maths predicts, and equals `selectMemoryLane` over the candidates it recalled.
 */
const script = { turns: [{ iterations: [{ text: 'An answer from the notes.', confidence: 0.5, final: true }] }] };
const question = 'What is the office wifi password?';
const day = 24 * 3600 * 1000;

interface Memory {
  key: string;
  content: string;
  importance: number;
  ageDays: number;
}

describe.each(drivers())('the memory lane follows each weight through the turn path (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let tenantId: string;
  let userId: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    const tenant = (await t.tenant()) as { id: string; api_key: string; user_id?: string };
    key = tenant.api_key;
    tenantId = tenant.id;
    userId = (await t.soma.ctx.store.apiKeys.findByHash((await import('../../src/shared/hash.js')).sha256Hex(key)))!.userId;
  });
  afterAll(async () => t?.close());

  /** A capsule whose weights start at `weights` (nothing explored), with `memories` in the caller's scope; returns the lane of one turn. */
  async function laneOf(weights: Partial<Weights>, memories: Memory[]) {
    const learning_config = { exploration: 0, memory_min_quality: 1, weights: Object.fromEntries(Object.entries(weights).map(([name, value]) => [name, { default: value }])) };
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'lane', system_prompt: 'You answer from your notes.', learning_config } })).json()) as { id: string; learned_weights: Weights };
    const now = Date.now();
    for (const memory of memories) {
      await t.soma.database.query(sql`insert into memories (id, tenant_id, capsule_id, user_id, key, content, importance, created_at)
        values (${randomUUID()}, ${tenantId}, ${capsule.id}, ${userId}, ${memory.key}, ${memory.content}, ${memory.importance}, ${new Date(now - memory.ageDays * day).toISOString()}::timestamptz)`);
    }
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
    const turn = (await (await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: question } })).json()) as { turn_id: string };
    const trace = (await (await t.request('GET', `/v1/trace/${turn.turn_id}`, { key })).json()) as {
      iterations: { metadata: { lane: { keys: string[]; utility: number; total_weight: number }; memories: { key: string; content: string; similarity: number; importance: number; recency: number }[] } }[];
    };
    const meta = trace.iterations[0]!.metadata;
    // What the maths says for the candidates the turn recalled, under the capsule's weights.
    const predicted = selectMemoryLane({
      candidates: meta.memories,
      weights: capsule.learned_weights,
      tokenBudget: allocateLanes({ totalTokens: t.soma.ctx.settings.contextTokens, degraded: false }).memory,
      countTokens: (text) => countTiktokens(text, 'o200k_base'),
    });
    expect(meta.lane.keys).toEqual(predicted.selected.map((m) => m.key));
    expect(meta.lane.utility).toBeCloseTo(predicted.utility, 12);
    expect(capsule.learned_weights).toEqual({ ...defaultLearnedState().weights, ...weights });
    return meta.lane;
  }

  const match = (keyName: string, value: string, importance = 0.5, ageDays = 0): Memory => ({ key: keyName, content: `the office wifi password is ${value}`, importance, ageDays });
  const unrelated = (keyName: string, importance = 0.5, ageDays = 0): Memory => ({ key: keyName, content: `lunch is served at noon in the ${keyName} room`, importance, ageDays });

  it('α: a higher α puts the similar old memory before the fresh unrelated one', async () => {
    const memories = [match('similar-old', 'heron-42', 0.5, 60), unrelated('fresh', 0.5, 0)];
    expect((await laneOf({ alpha: 0.1, gamma: 0.5 }, memories)).keys[0]).toBe('fresh');
    expect((await laneOf({ alpha: 3, gamma: 0.5 }, memories)).keys[0]).toBe('similar-old');
  });

  it('β: a higher β puts the important memory first', async () => {
    const memories = [match('important-older', 'heron-42', 1, 10), match('unimportant-new', 'maple-17', 0, 0)];
    expect((await laneOf({ beta: 0 }, memories)).keys[0]).toBe('unimportant-new');
    expect((await laneOf({ beta: 1 }, memories)).keys[0]).toBe('important-older');
  });

  it('γ: a higher γ puts the recent memory first', async () => {
    const memories = [match('old', 'heron-42', 0.9, 30), match('new', 'maple-17', 0.5, 0)];
    expect((await laneOf({ gamma: 0 }, memories)).keys[0]).toBe('old');
    expect((await laneOf({ gamma: 1 }, memories)).keys[0]).toBe('new');
  });

  it('τ: a low τ gives the best memory almost all the weight and the lane takes it alone; a high τ spreads it and more pay for themselves', async () => {
    const memories = [match('best', 'heron-42', 0.9, 0), unrelated('a', 0.5, 1), unrelated('b', 0.4, 2), unrelated('c', 0.3, 3)];
    const sharp = await laneOf({ tau: 0.05 }, memories);
    const flat = await laneOf({ tau: 2 }, memories);
    expect(sharp.keys).toEqual(['best']);
    expect(flat.keys.length).toBeGreaterThan(sharp.keys.length);
    expect(flat.utility).not.toBeCloseTo(sharp.utility, 6);
  });

  /** The matching memory and seven unrelated ones (optionally long: about 100 tokens each). */
  const many = (long = false): Memory[] => [
    match('best', 'heron-42', 0.9, 0),
    ...Array.from({ length: 7 }, (_, i) => {
      const memory = unrelated(`room-${i}`, 0.6, i);
      return long ? { ...memory, content: `${memory.content}. ${'The minutes list every dish, its price, allergens, the cook and the supplier in turn. '.repeat(6)}` } : memory;
    }),
  ];

  it('λ: a higher λ values the weight mass more and takes more memories', async () => {
    const low = await laneOf({ lambda: 0.1, nu: 0.1 }, many());
    const high = await laneOf({ lambda: 5, nu: 0.1 }, many());
    expect(low.keys).toEqual(['best']);
    expect(high.keys.length).toBeGreaterThan(low.keys.length);
  });

  it('μ: a higher μ makes tokens dearer and takes fewer memories', async () => {
    const cheap = await laneOf({ mu: 0.01, tau: 2 }, many(true));
    const dear = await laneOf({ mu: 5, tau: 2 }, many(true));
    expect(cheap.keys).toHaveLength(8);
    expect(dear.keys.length).toBeLessThan(cheap.keys.length);
  });

  it('ν: a higher ν charges more per memory and takes fewer', async () => {
    const cheap = await laneOf({ nu: 0.01, tau: 2 }, many());
    const dear = await laneOf({ nu: 1.5, tau: 2 }, many());
    expect(cheap.keys).toHaveLength(8);
    expect(dear.keys.length).toBeLessThan(cheap.keys.length);
  });
});
