import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { ADMIN_TOKEN, startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * SPEC §13.2 "feedback is a reward", through the HTTP API only: answers whose lane put memory X first
 * get 👎, answers that put Y first get 👍; the learning that follows makes later turns prefer Y.
 */
const script = { turns: [{ iterations: [{ text: 'Here is what my notes say.', confidence: 0.5, final: true }] }] };
const question = 'What is the office wifi password?';

describe.each(drivers())('feedback on %s', (driver) => {
  let t: TestSoma;
  let key: string;
  let capsuleId: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => t?.close());

  const json = async <T>(method: string, route: string, body?: unknown, as = key) => (await (await t.request(method, route, { key: as, ...(body === undefined ? {} : { body }) })).json()) as T;
  const laneOf = async (turnId: string) => (await json<{ iterations: { metadata: { lane: { keys: string[] } } }[] }>('GET', `/v1/trace/${turnId}`)).iterations[0]!.metadata.lane.keys;
  const turn = async () => {
    const conversation = await json<{ id: string }>('POST', '/v1/conversations', { capsule_id: capsuleId });
    return json<{ turn_id: string }>('POST', `/v1/conversations/${conversation.id}/messages`, { content: question });
  };

  it('learns from 👍 and 👎 until later turns put the liked memory first', async () => {
    // X matches the question; Y does not but is important. At the start weights X comes first; a turn
    // whose exploration lowers α puts Y first. Only α is explored here: with β, τ, λ, μ, ν explored too,
    // a flip of α often changes the lane without changing which memory comes first, and those credits
    // (the same 👎 for either sign) are noise that 24 turns cannot always outweigh (the outcome then
    // depends on the random turn ids). The capsule decides quickly (a test, not a benchmark).
    const fixed = { rate: 0 };
    const weights = { alpha: { default: 0.35 }, beta: fixed, gamma: fixed, tau: fixed, lambda: fixed, mu: fixed, nu: fixed };
    const learning_config = { memory_min_quality: 1, weights, evidence_z: 2.5, evidence_min_samples: 4, step_initial: 1 };
    capsuleId = (await json<{ id: string }>('POST', '/v1/capsules', { name: 'feedback', system_prompt: 'You answer from your notes.', learning_config })).id;
    expect((await t.request('POST', '/v1/memory/remember', { key, body: { capsule_id: capsuleId, key: 'X', content: 'the office wifi password is heron-42', importance: 0 } })).status).toBe(200);
    expect((await t.request('POST', '/v1/memory/remember', { key, body: { capsule_id: capsuleId, key: 'Y', content: 'ask the front desk for the guest network card', importance: 1 } })).status).toBe(200);

    const start = await json<{ weights: Record<string, number> }>('GET', `/v1/capsules/${capsuleId}/learning`);
    const firstAtStart = await json<{ results: { key: string }[] }>('POST', '/v1/memory/recall', { capsule_id: capsuleId, query: question, top_k: 2, weights: start.weights });
    expect(firstAtStart.results[0]!.key).toBe('X');

    let feedbackRows = 0;
    for (let i = 0; i < 24; i += 1) {
      const { turn_id } = await turn();
      const first = (await laneOf(turn_id))[0];
      const response = await t.request('POST', `/v1/turns/${turn_id}/feedback`, { key, body: { score: first === 'Y' ? 1 : -1, comment: `lane started with ${first}` } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { changed: boolean; learning: { status: string } };
      expect(body.changed).toBe(true);
      expect(body.learning.status).toBe('applied');
      feedbackRows += 1;
    }

    const learned = await json<{ weights: Record<string, number>; history: { source: string | null }[] }>('GET', `/v1/capsules/${capsuleId}/learning?limit=500`);
    expect(learned.history.filter((row) => row.source === 'feedback')).toHaveLength(feedbackRows);
    expect(learned.weights.alpha!).toBeLessThan(start.weights.alpha!);
    const firstLearned = await json<{ results: { key: string }[] }>('POST', '/v1/memory/recall', { capsule_id: capsuleId, query: question, top_k: 2, weights: learned.weights });
    expect(firstLearned.results[0]!.key).toBe('Y');
    // A later turn that explores nothing uses the learned weights as they are: Y comes first.
    expect((await t.request('PATCH', `/v1/capsules/${capsuleId}`, { key, body: { learning_config: { ...learning_config, exploration: 0 } } })).status).toBe(200);
    expect((await laneOf((await turn()).turn_id))[0]).toBe('Y');
  });

  it('keeps the latest score per user, changes nothing on a repeat, emits chat.feedback_received, and refuses outsiders', async () => {
    const { turn_id } = await turn();
    const post = (score: number, as = key) => t.request('POST', `/v1/turns/${turn_id}/feedback`, { key: as, body: { score } });
    const historyLength = async () => (await json<{ history: unknown[] }>('GET', `/v1/capsules/${capsuleId}/learning?limit=500`)).history.length;

    expect((await post(1)).status).toBe(200);
    const afterFirst = await historyLength();
    const repeat = (await (await post(1)).json()) as { changed: boolean; learning: { status: string } };
    expect(repeat).toMatchObject({ changed: false, learning: { status: 'unchanged' } });
    expect(await historyLength()).toBe(afterFirst);
    const changed = (await (await post(-1)).json()) as { score: number; total: number; revision: number };
    expect(changed).toMatchObject({ score: -1, total: -1, revision: 2 });
    expect(await historyLength()).toBe(afterFirst + 1);

    const events = await json<{ events: { event_type: string; payload: { turn_id: string; score: number } }[] }>('GET', '/v1/events?after=0&limit=1000');
    const received = events.events.filter((e) => e.event_type === 'chat.feedback_received' && e.payload.turn_id === turn_id);
    expect(received.map((e) => e.payload.score)).toEqual([1, -1]);

    expect((await post(2)).status).toBe(400);
    const other = await t.tenant('other');
    expect((await post(1, other.api_key)).status).toBe(404);
    // Another user of the same tenant who does not take part in the conversation: 404 too.
    const tenants = (await (await t.request('GET', `/v1/capsules/${capsuleId}`, { key })).json()) as { tenant_id: string };
    const stranger = (await (await t.request('POST', `/v1/admin/tenants/${tenants.tenant_id}/api-keys`, { key: ADMIN_TOKEN, body: {} })).json()) as { api_key: string };
    expect((await post(1, stranger.api_key)).status).toBe(404);
    expect((await t.request('POST', `/v1/turns/00000000-0000-4000-8000-000000000000/feedback`, { key, body: { score: 1 } })).status).toBe(404);
  });

  it('rolls back across feedback rows to the exact state before them', async () => {
    const page = await json<{ history: { seq: number; source: string | null; weights_before: Record<string, number> }[] }>('GET', `/v1/capsules/${capsuleId}/learning?limit=500`);
    const firstFeedback = page.history.find((row) => row.source === 'feedback')!;
    const rolled = await t.request('POST', `/v1/capsules/${capsuleId}/learning/rollback`, { key, body: { to_seq: firstFeedback.seq } });
    expect(rolled.status).toBe(200);
    const state = await json<{ weights: Record<string, number>; history: { kind: string }[] }>('GET', `/v1/capsules/${capsuleId}/learning?limit=500`);
    expect(state.weights).toEqual(firstFeedback.weights_before);
    expect(state.history.at(-1)!.kind).toBe('rollback');
  });

  it('replays a turn with its feedback steps', async () => {
    const page = await json<{ history: { source: string | null; turn_id: string | null }[] }>('GET', `/v1/capsules/${capsuleId}/learning?limit=500`);
    const turnId = page.history.find((row) => row.source === 'feedback')!.turn_id!;
    const report = await json<{ identical: boolean; differences: unknown[] }>('POST', `/v1/turns/${turnId}/replay`, {});
    expect(report.differences).toEqual([]);
    expect(report.identical).toBe(true);
  });
});
