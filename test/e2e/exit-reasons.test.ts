import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Script } from '../../src/adapters/model/scripted/index.js';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

/** Budget of the test server: far above the short turns, below the long draft of the `budget` turn. */
const TOKEN_BUDGET = 2_000;
const draft = (text: string, logprob = -0.7) => ({ text, logprobs: [logprob, logprob] });

/**
 * One scripted turn per exit reason the loop itself decides (`cancelled` is test/e2e/cancel.test.ts,
 * `interrupted` test/e2e/kill-recovery.test.ts). The user message names the case.
 */
const script: Script = {
  turns: [
    { match: 'case converged', iterations: [{ text: 'Paris, I think.', logprobs: [-1.2, -0.9] }, { text: 'The capital of France is Paris.', logprobs: [-0.6] }, { text: 'The capital of France is Paris.', logprobs: [-0.01, -0.02] }] },
    { match: 'case llm_completed', iterations: [{ ...draft('Here is my answer, and I am done with it.'), final: true }] },
    { match: 'case plateau', iterations: [draft('A first rough attempt at it.', -0.5), draft('Another take that is no better.', -0.7), draft('A third angle, still unsure of it.', -0.9), draft('Yet one more try, less sure still.', -1.1)] },
    { match: 'case loop_detected', iterations: [draft('The same draft, over and over.'), draft('The same draft, over and over.')] },
    { match: 'case max_iterations', iterations: [draft('One draft of the answer.'), draft('A different draft of the answer.', -0.6)] },
    { match: 'case budget_exhausted', iterations: [draft(`A very long draft: ${'word '.repeat(TOKEN_BUDGET + 500)}`)] },
    { match: 'case error', iterations: [draft('A committed first draft.'), { text: '', error: 'server_error' }] },
  ],
};

const cases: { reason: string; capsule?: Record<string, unknown> }[] = [
  { reason: 'converged' },
  { reason: 'llm_completed' },
  { reason: 'plateau' },
  { reason: 'loop_detected' },
  { reason: 'max_iterations', capsule: { rlm_max_iterations: 2 } },
  { reason: 'budget_exhausted' },
  { reason: 'error' },
];

/** `rlm_iterations_total` by exit reason, as /metrics shows it. */
async function iterationCounts(t: TestSoma): Promise<Record<string, number>> {
  const text = await (await t.request('GET', '/metrics')).text();
  return Object.fromEntries([...text.matchAll(/^rlm_iterations_total\{exit_reason="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe.each(drivers())('every exit reason on the last iteration row and in rlm_iterations_total (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  beforeAll(async () => {
    t = await startTestSoma({ driver, script, env: { SOMA_TURN_TOKEN_BUDGET: String(TOKEN_BUDGET), SOMA_LLM_RETRY_DELAY_MS: '5' } });
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => t?.close());

  it.each(cases)('$reason', async ({ reason, capsule: settings = {} }) => {
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: reason, system_prompt: 's', ...settings } })).json()) as { id: string };
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
    const before = await iterationCounts(t);
    const response = await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: `case ${reason}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { turn_id: string; exit_reason: string; content: string };
    expect(body.exit_reason).toBe(reason);
    expect(body.content).not.toBe('');

    const [turn] = await t.database.query<{ status: string; exit_reason: string }>(sql`select status, exit_reason from turns where id = ${body.turn_id}`);
    expect(turn?.exit_reason).toBe(reason);
    const rows = await t.database.query<{ exit_reason: string }>(sql`select exit_reason from rlm_iterations where turn_id = ${body.turn_id} order by iteration_number`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.exit_reason)).toEqual([...rows.slice(1).map(() => 'continue'), reason]);

    // Each iteration counted once: the last with the turn's exit reason, the others `continue`.
    const after = await iterationCounts(t);
    const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]).filter(([, n]) => n !== 0));
    expect(delta).toEqual({ [reason]: 1, ...(rows.length > 1 ? { continue: rows.length - 1 } : {}) });
  });
});
