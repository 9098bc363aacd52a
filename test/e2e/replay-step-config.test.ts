import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { replay } from '../support/replay.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

// Three drafts; the second call takes 2.5 s, long enough to change the capsule between the first
// learning step and the second.
const script = {
  turns: [{ iterations: [{ text: 'Teal, I think.', confidence: 0.3 }, { text: 'Teal, probably.', confidence: 0.5, latency_ms: 2_500 }, { text: 'The answer is teal.', confidence: 0.6 }] }],
};

describe.each(drivers())('replay learns each step with the learning config the ledger recorded for it (%s)', (driver) => {
  let t: TestSoma;
  let key: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('replays exactly a turn whose capsule changed its learning_config during and after the turn', async () => {
    const start = { update_rule: 'perturbation', learn_threshold: 0 };
    const during = { update_rule: 'gain', learn_threshold: 0 };
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'config changes', system_prompt: 's', rlm_max_iterations: 3, learning_config: start } })).json()) as { id: string };
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };

    const sent = t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'colour?' } });
    // Once the first step is in the ledger, the capsule switches to the gain rule (the second draft is still being written).
    const deadline = Date.now() + 20_000;
    while ((await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from learning_updates where capsule_id = ${capsule.id}`))[0]!.n === 0) {
      if (Date.now() > deadline) throw new Error('the first learning step never reached the ledger');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await t.request('PATCH', `/v1/capsules/${capsule.id}`, { key, body: { learning_config: during } })).status).toBe(200);
    const completed = (await (await sent).json()) as { turn_id: string; iterations: number };
    expect(completed.iterations).toBe(3);

    // The ledger recorded the config of each step: the first with the start config, the later ones with the new rule.
    const steps = await t.soma.database.query<{ iteration: number; rule: string | null }>(
      sql`select iteration_number::int as iteration, inputs->'learning_config'->>'update_rule' as rule from learning_updates where turn_id = ${completed.turn_id} and source = 'iteration' order by iteration_number`,
    );
    expect(steps).toEqual([
      { iteration: 0, rule: 'perturbation' },
      { iteration: 1, rule: 'gain' },
      { iteration: 2, rule: 'gain' },
    ]);

    // After the turn the capsule changes again: the replay still follows the ledger, exactly.
    expect((await t.request('PATCH', `/v1/capsules/${capsule.id}`, { key, body: { learning_config: { update_rule: 'perturbation', learn_threshold: 0.9 } } })).status).toBe(200);
    const report = await replay(t.soma, completed.turn_id);
    expect(report.differences).toEqual([]);
    expect(report.identical).toBe(true);
    expect(report.replayed.iterations).toBe(3);

    // The recorded configs matter: replaying every step with the start rule moves the later steps' weights.
    const withStartRule = await replay(t.soma, completed.turn_id, { update_rule: 'perturbation' });
    expect(withStartRule.identical).toBe(false);
    const moved = withStartRule.differences.filter((d) => d.field === 'weights_after').map((d) => d.iteration);
    expect(moved).not.toContain(0);
    expect(moved).toContain(1);
  });
});
