import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { replay } from '../support/replay.js';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

const script = {
  turns: [
    {
      iterations: [
        { text: 'First thought about it.', confidence: 0.3 },
        { text: 'A better considered answer.', confidence: 0.9 },
        { text: 'A better considered answer, final.', confidence: 0.6, final: true },
      ],
    },
  ],
};

describe.each(drivers())('concurrent turns on one capsule (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let capsuleId: string;
  beforeAll(async () => {
    // A generous brain timeout: 24 turns queue on one capsule's row lock, and a step that timed out
    // would (correctly) be skipped, which is not what this test is about.
    t = await startTestSoma({ driver, script, env: { SOMA_BRAIN_TIMEOUT_MS: '60000' } });
    key = (await t.tenant()).api_key;
    // SPEC §5's gain rule moves the weights at every step, so a step of another turn between two of one turn's shows.
    capsuleId = ((await (await t.request('POST', '/v1/capsules', { key, body: { name: 'busy', system_prompt: 's', learning_config: { learn_threshold: 0, update_rule: 'gain' } } })).json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  it('keeps one linear learning history, the capsule equal to its last link, and every turn replayable', async () => {
    const conversations = await Promise.all(
      Array.from({ length: 6 }, async () => ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId } })).json()) as { id: string }).id),
    );
    const turns = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const response = await t.request('POST', `/v1/conversations/${conversations[i % conversations.length]}/messages`, { key, body: { content: `question ${i}` } });
        expect(response.status).toBe(200);
        return (await response.json()) as { turn_id: string; iterations: number };
      }),
    );
    const expectedRows = turns.reduce((sum, turn) => sum + turn.iterations, 0);

    const history = (await (await t.request('GET', `/v1/capsules/${capsuleId}/learning?limit=200`, { key })).json()) as {
      weights: Record<string, number>;
      neuromodulators: Record<string, number>;
      learning_version: number;
      history: { seq: number; weights_before: Record<string, number>; weights_after: Record<string, number>; neuromodulators_before: Record<string, number>; neuromodulators_after: Record<string, number> }[];
    };
    expect(history.history).toHaveLength(expectedRows);
    history.history.forEach((row, i) => {
      expect(row.seq).toBe(i + 1);
      if (i > 0) {
        expect(row.weights_before).toEqual(history.history[i - 1]!.weights_after);
        expect(row.neuromodulators_before).toEqual(history.history[i - 1]!.neuromodulators_after);
      }
    });
    const last = history.history[history.history.length - 1]!;
    expect(history.weights).toEqual(last.weights_after);
    expect(history.neuromodulators).toEqual(last.neuromodulators_after);
    expect(history.learning_version).toBe(expectedRows);

    // Every turn replays exactly, also those whose iterations interleaved with other turns' learning.
    let interleaved = 0;
    for (const turn of turns) {
      const report = await replay(t.soma, turn.turn_id);
      expect(report.differences, turn.turn_id).toEqual([]);
      if (report.interleaved.length > 0) interleaved++;
    }
    if (driver === 'postgres') expect(interleaved).toBeGreaterThan(0);
    const [{ n } = { n: -1 }] = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from turns where status <> 'completed'`);
    expect(n).toBe(0);
  }, 120_000);
});
