import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Script } from '../../src/adapters/model/scripted/index.js';
import { drivers } from '../support/databases.js';
import { readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * A model whose output holds characters PostgreSQL cannot store (NUL and an unpaired surrogate), and
 * a turn whose http_fetch reads a local service that answers with them.
 */
const script = (fetchUrl: string): Script => ({
  turns: [
    { match: 'nul', iterations: [{ text: 'Before\u0000after, and a lone \uD800 half.', logprobs: [-0.01], final: true }] },
    { match: 'fetch', iterations: [{ text: 'Fetching.', tool_calls: [{ name: 'http_fetch', args: { url: fetchUrl } }], logprobs: [-0.3] }, { text: 'The service said hello.', logprobs: [-0.01], final: true }] },
    { iterations: [{ text: 'Fine.', logprobs: [-0.01], final: true }] },
  ],
});
/** What the local service answers: valid UTF-8 with a NUL, which PostgreSQL cannot store. */
const SERVICE_BODY = 'hello\u0000world';

describe.each(drivers())('characters PostgreSQL cannot store (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let conversationId: string;
  let web: Server;
  beforeAll(async () => {
    web = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(SERVICE_BODY));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const { port } = web.address() as AddressInfo;
    t = await startTestSoma({ driver, script: script(`http://127.0.0.1:${port}/`), env: { SOMA_EGRESS_ALLOW: '127.0.0.1' } });
    key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'n', system_prompt: 's', tools: [{ name: 'http_fetch', config: { allowed_hosts: ['127.0.0.1'] } }] } })).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => {
    await t?.close();
    web?.closeAllConnections();
    await new Promise((resolve) => web?.close(resolve));
  });

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

  it('a NUL in a tool result (http_fetch of a local service): the turn completes, the stored result has the replacement, counted on the iteration', async () => {
    const events = await readEvents(await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'please fetch it' }, headers: { accept: 'text/event-stream' } }));
    const completed = events.at(-1)!;
    expect(completed.event).toBe('turn.completed');
    expect(completed.data).toMatchObject({ content: 'The service said hello.', exit_reason: 'llm_completed', tools_used: ['http_fetch'] });
    expect(events.map((e) => e.event)).not.toContain('error');
    // The streamed result is the stored one.
    expect(events.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: { status: 200, body: 'hello\uFFFDworld' } });
    const turnId = String(completed.data.turn_id);
    const trace = (await (await t.request('GET', `/v1/trace/${turnId}`, { key })).json()) as { status: string; iterations: { metadata: { text_replaced?: { model: number; tools: number } }; tool_results: { name: string; ok: boolean; result: { body: string } }[] }[] };
    expect(trace.status).toBe('completed');
    expect(trace.iterations[0]!.tool_results).toMatchObject([{ name: 'http_fetch', ok: true, result: { body: 'hello\uFFFDworld' } }]);
    expect(trace.iterations[0]!.metadata.text_replaced).toEqual({ model: 0, tools: 1 });
    expect(trace.iterations[1]!.metadata.text_replaced).toBeUndefined();
    // What the database holds, read directly: no NUL anywhere in the row.
    const [row] = await t.database.query<{ tool_results: string }>(sql`select tool_results::text as tool_results from rlm_iterations where turn_id = ${turnId} and iteration_number = 0`);
    expect(row!.tool_results).toContain('hello\uFFFDworld');
    const replay = (await (await t.request('POST', `/v1/turns/${turnId}/replay`, { key, body: {} })).json()) as { identical: boolean; differences: unknown[] };
    expect(replay.differences).toEqual([]);
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
