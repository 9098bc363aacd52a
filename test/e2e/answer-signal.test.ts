import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

/** SPEC §13.2 "other real signals": a scorer's score is the reward; confident nonsense earns little and is not remembered. */
const script = {
  turns: [
    { match: 'echo', iterations: [{ text: 'please echo this question back to me', confidence: 0.99, final: true }] },
    { match: 'json', iterations: [{ text: '{"colour": "teal", "sure": true}', confidence: 0.6, final: true }] },
    { iterations: [{ text: 'The colour is mauve.', confidence: 0.99, final: true }] },
  ],
};

describe.each(drivers())('answer signals on %s', (driver) => {
  let t: TestSoma;
  let key: string;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soma-judge-'));
    const judge = path.join(dir, 'judge.json');
    writeFileSync(judge, JSON.stringify({ turns: [{ iterations: [{ text: '0.25', final: true }] }] }));
    t = await startTestSoma({ driver, script, env: { SOMA_JUDGE_MODELS: `strict=scripted:${judge}` } });
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => t?.close());

  async function turnWith(learning_config: Record<string, unknown>, content: string) {
    const capsule = await t.request('POST', '/v1/capsules', { key, body: { name: 'scored', system_prompt: 'Answer with a colour.', learning_config } });
    expect(capsule.status).toBe(201);
    const { id } = (await capsule.json()) as { id: string };
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: id } })).json()) as { id: string };
    const response = await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content } });
    if (response.status !== 200) return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    const turn = (await response.json()) as { turn_id: string };
    const trace = (await (await t.request('GET', `/v1/trace/${turn.turn_id}`, { key })).json()) as { iterations: { latency_ms: number; metadata: { reward: number; answer_score: number | null; junk?: string } }[] };
    // The reward without its latency penalty (a loaded test machine may be slow): quality + tool term.
    const latency = Math.min(0.2, 0.02 * Math.max(0, trace.iterations[0]!.latency_ms / 1000 - 2));
    const meta = { ...trace.iterations[0]!.metadata, reward: Math.round((trace.iterations[0]!.metadata.reward + latency) * 1e9) / 1e9 };
    await new Promise((r) => setTimeout(r, 100)); // remembering does not block the answer
    const [{ n } = { n: 0 }] = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from memories where key = ${`turn:${turn.turn_id}`}`);
    return { status: 200, meta, remembered: n === 1 };
  }

  it('rewards a regex scorer’s verdict instead of the model’s confidence, and remembers only what passed', async () => {
    const miss = await turnWith({ scorer: { type: 'regex', pattern: '\\bteal\\b', flags: 'i' } }, 'which colour?');
    expect(miss.meta).toMatchObject({ answer_score: 0, reward: 0.5 });
    expect(miss.remembered).toBe(false);
    const hit = await turnWith({ scorer: { type: 'regex', pattern: 'MAUVE', flags: 'i' } }, 'which colour?');
    expect(hit.meta).toMatchObject({ answer_score: 1, reward: 1.5 });
    expect(hit.remembered).toBe(true);
  });

  it('scores with a JSON Schema and with an operator-configured judge; an unknown judge or a bad pattern is 400', async () => {
    const schema = { type: 'object', required: ['colour'], properties: { colour: { type: 'string', pattern: '^te' } } };
    expect((await turnWith({ scorer: { type: 'json_schema', schema } }, 'json please')).meta!.answer_score).toBe(1);
    expect((await turnWith({ scorer: { type: 'json_schema', schema: { ...schema, required: ['shade'] } } }, 'json please')).meta!.answer_score).toBe(0);
    const judged = await turnWith({ scorer: { type: 'judge', judge: 'strict' } }, 'which colour?');
    expect(judged.meta).toMatchObject({ answer_score: 0.25, reward: 0.75 });
    const unknown = await turnWith({ scorer: { type: 'judge', judge: 'scripted:/etc/passwd' } }, 'which colour?');
    expect(unknown.status).toBe(400);
    expect(unknown.body!.error.message).not.toContain('root:');
    expect((await turnWith({ scorer: { type: 'regex', pattern: '(unclosed' } }, 'which colour?')).status).toBe(400);
  });

  it('without a scorer, self-confidence counts at half weight and an echo of the prompt earns no quality nor a memory', async () => {
    const confident = await turnWith({}, 'which colour?');
    // 0.5 + 0.5·(0.99 − 0.5) + 0.5 — no longer the ~1.3–1.5 a confident answer earned.
    expect(confident.meta!.reward).toBeCloseTo(1.245, 9);
    const echo = await turnWith({}, 'please echo this question back to me');
    expect(echo.meta).toMatchObject({ junk: 'echo', answer_score: 0, reward: 0.5 });
    expect(echo.remembered).toBe(false);
  });
});
