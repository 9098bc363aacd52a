import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { replay } from '../support/replay.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

// The second draft is empty at confidence 0.95 and says FINAL: an empty draft fails a check and scores 0
// (it would score 0.72 against the first's 0.27 on confidence alone), so it neither ends the turn nor
// becomes the answer; the turn ends at its maximum of 2 and answers with the first draft.
const script = { turns: [{ iterations: [{ text: 'Paris is the capital of France.', confidence: 0.2 }, { text: '', confidence: 0.95, final: true }] }] };

describe.each(drivers())('replay names the answer the turn gave when its last draft is empty (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let conversationId: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'empty draft', system_prompt: 's', rlm_max_iterations: 2 } })).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reports the non-empty draft the turn answered with, recorded and replayed', async () => {
    const completed = (await (await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'capital of France?' } })).json()) as { turn_id: string; content: string; iterations: number; exit_reason: string };
    expect(completed.iterations).toBe(2);
    expect(completed.exit_reason).toBe('max_iterations');
    expect(completed.content).toBe('Paris is the capital of France.');
    const trace = (await (await t.request('GET', `/v1/trace/${completed.turn_id}`, { key })).json()) as { iterations: { content: string; convergence_score: number }[] };
    expect(trace.iterations[1]!.content).toBe('');
    expect(trace.iterations[1]!.convergence_score).toBe(0);
    expect(trace.iterations[0]!.convergence_score).toBeGreaterThan(0);

    const report = await replay(t.soma, completed.turn_id);
    expect(report.identical).toBe(true);
    expect(report.recorded.answer_iteration).toBe(0);
    expect(report.replayed.answer_iteration).toBe(0);
  });
});
