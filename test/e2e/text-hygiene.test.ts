import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

/** A model whose output holds characters PostgreSQL cannot store: NUL and an unpaired surrogate. */
const script = {
  turns: [
    { match: 'nul', iterations: [{ text: 'Before\u0000after, and a lone \uD800 half.', logprobs: [-0.01], final: true }] },
    { iterations: [{ text: 'Fine.', logprobs: [-0.01], final: true }] },
  ],
};

describe.each(drivers())('characters PostgreSQL cannot store (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let conversationId: string;
  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'n', system_prompt: 's' } })).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  it('a NUL in the model output: the turn completes, the characters replaced and counted on the iteration', async () => {
    const events = await readEvents(await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'say nul' }, headers: { accept: 'text/event-stream' } }));
    const completed = events.at(-1)!;
    expect(completed.event).toBe('turn.completed');
    expect(completed.data.content).toBe('Before\uFFFDafter, and a lone \uFFFD half.');
    expect(events.map((e) => e.event)).not.toContain('error');
    const trace = (await (await t.request('GET', `/v1/trace/${completed.data.turn_id}`, { key })).json()) as { status: string; iterations: { metadata: { text_replaced?: unknown }; llm_output: { text: string } }[] };
    expect(trace.status).toBe('completed');
    expect(trace.iterations[0]!.metadata.text_replaced).toEqual({ model: 2, tools: 0 });
    expect(trace.iterations[0]!.llm_output.text).toBe('Before\uFFFDafter, and a lone \uFFFD half.');
    const deltas = events.filter((e) => e.event === 'iteration.delta').map((e) => e.data.text).join('');
    expect(deltas).toBe('Before\uFFFDafter, and a lone \uFFFD half.');
    const replay = (await (await t.request('POST', `/v1/turns/${completed.data.turn_id}/replay`, { key, body: {} })).json()) as { identical: boolean };
    expect(replay.identical).toBe(true);
  });

  it('refuses NUL and unpaired surrogates in requests with 400, writing nothing', async () => {
    const before = await t.database.query<{ n: number }>(sql`select count(*)::int as n from messages`);
    for (const content of ['a\u0000b', 'half \uDC00 pair']) {
      const response = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content } });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('content') } });
    }
    const capsule = await t.request('POST', '/v1/capsules', { key, body: { name: 'bad\u0000name', system_prompt: 's' } });
    expect(capsule.status).toBe(400);
    expect(((await capsule.json()) as { error: { message: string } }).error.message).toContain('name');
    // Raw JSON escapes too, and a paired surrogate (an emoji) is fine.
    expect((await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, rawBody: '{"content":"x\\u0000y"}' })).status).toBe(400);
    expect((await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'hello 😀' } })).status).toBe(200);
    const after = await t.database.query<{ n: number }>(sql`select count(*)::int as n from messages`);
    expect(after[0]!.n).toBe(before[0]!.n + 2);
  });
});
