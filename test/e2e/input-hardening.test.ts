import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { ADMIN_TOKEN, startTestSoma, type TestSoma } from '../support/soma.js';

/**
 * Issue 14's probes, each pinned: what used to answer 500 (or 503 with SQL in its message, or a
 * silent `null`) now answers a clear 4xx, and no error body carries SQL, a stack or a file path.
 */

const script = { turns: [{ iterations: [{ text: 'Noted.', confidence: 0.95, final: true }] }] };

/** What no error body may contain (the statement, its parameters, stack frames, source paths). */
const leaks = [/\b(select|insert|update|delete)\b[\s\S]*\b(from|into|set|where)\b/i, /failed query|params:/i, /\bat .+:\d+:\d+/, /\.(ts|js|mjs):\d+/, /\/(work|home|root|tmp|usr)\//, /node_modules/];

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** JSON text of an object nested `depth` levels deep (as text: JSON.stringify would overflow the stack itself). */
const deep = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe.each(drivers())('input hardening on %s', (driver) => {
  let t: TestSoma;
  let key: string;
  let capsuleId: string;
  let conversationId: string;
  const errorBodies: string[] = [];

  /** A request whose error body is kept for the leak scan. */
  const call = async (method: string, route: string, options: Parameters<TestSoma['request']>[2] = {}) => {
    const response = await t.request(method, route, { key, ...options });
    const text = await response.text();
    if (response.status >= 400) errorBodies.push(text);
    return { status: response.status, text, body: JSON.parse(text) as { error?: { code: string; message: string } } & Record<string, unknown>, headers: response.headers };
  };

  const rowCounts = async () => {
    const rows = await t.soma.database.query<{ n: number; table: string }>(sql`
      select 'messages' as table, count(*)::int as n from messages union all
      select 'turns', count(*)::int from turns union all
      select 'capsules', count(*)::int from capsules union all
      select 'conversations', count(*)::int from conversations union all
      select 'memories', count(*)::int from memories union all
      select 'outbox', count(*)::int from outbox_messages`);
    return Object.fromEntries(rows.map((r) => [r.table, r.n]));
  };

  beforeAll(async () => {
    t = await startTestSoma({ driver, script, env: { SOMA_CONTEXT_TOKENS: '8192' } });
    key = (await t.tenant()).api_key;
    capsuleId = ((await (await t.request('POST', '/v1/capsules', { key, body: { name: 'probe', system_prompt: 'You take notes.' } })).json()) as { id: string }).id;
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId } })).json()) as { id: string }).id;
    expect((await call('POST', `/v1/conversations/${conversationId}/messages`, { body: { content: 'first note' } })).status).toBe(200);
  });
  afterAll(async () => t?.close());

  it('refuses crafted pagination cursors with 400 on every paged list (probe: cursor 500s)', async () => {
    const crafted = [
      base64url(['2026-01-01T00:00:00Z', 'x']),
      base64url(['-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']),
      '-8640000000000000.00000000-0000-4000-8000-000000000000',
      '1767225600000.x',
      '999999999999999.00000000-0000-4000-8000-000000000000',
      'nonsense',
    ];
    for (const route of ['/v1/capsules', '/v1/conversations', `/v1/trace/conversation/${conversationId}`]) {
      for (const cursor of crafted) {
        const response = await call('GET', `${route}?cursor=${encodeURIComponent(cursor)}`);
        expect(response.status, `${route} cursor ${cursor}`).toBe(400);
        expect(response.body.error?.code).toBe('VALIDATION_FAILED');
        expect(response.body.error?.message).toMatch(/cursor/);
      }
      // The largest date the pattern allows is a position the database holds: an empty page, not a 500.
      expect((await call('GET', `${route}?cursor=99999999999999.ffffffff-ffff-4fff-bfff-ffffffffffff`)).status).toBe(200);
    }
  });

  it('pages with the cursors it hands out', async () => {
    await call('POST', '/v1/capsules', { body: { name: 'second', system_prompt: 's' } });
    const first = await call('GET', '/v1/capsules?limit=1');
    const cursor = first.body.next_cursor as string;
    expect(cursor).toMatch(/^\d+\.[0-9a-f-]{36}$/);
    const next = await call('GET', `/v1/capsules?limit=1&cursor=${cursor}`);
    expect(next.status).toBe(200);
    expect((next.body.capsules as { id: string }[])[0]!.id).not.toBe((first.body.capsules as { id: string }[])[0]!.id);
  });

  it('refuses 10,000-deep nesting in tools[].config and input_schema with 400, not a stack overflow (probe: nesting)', async () => {
    const before = await rowCounts();
    for (const field of ['config', 'input_schema']) {
      const response = await call('POST', '/v1/capsules', { rawBody: `{"name":"deep","system_prompt":"s","tools":[{"name":"calculator","${field}":${deep(10_000)}}]}` });
      expect(response.status).toBe(400);
      expect(response.body.error?.message).toMatch(/nests deeper than 32 levels/);
    }
    // 32 levels are fine.
    const fine = await call('POST', '/v1/capsules', { rawBody: `{"name":"shallow","system_prompt":"s","tools":[{"name":"calculator","config":${deep(29)}}]}` });
    expect(fine.status).toBe(201);
    expect((await rowCounts()).capsules).toBe(before.capsules! + 1);
  });

  it('refuses NUL and unpaired surrogates in any request string with 400, writing nothing (probe: NUL 500s, remember 503)', async () => {
    const before = await rowCounts();
    const nul = 'a\u0000b';
    const cases: [string, string, string][] = [
      ['POST', `/v1/conversations/${conversationId}/messages`, JSON.stringify({ content: nul })],
      ['POST', `/v1/conversations/${conversationId}/messages`, '{"content":"lone \\ud800 half"}'],
      ['POST', `/v1/conversations/${conversationId}/messages`, '{"content":"lone \\udc00 low half"}'],
      ['POST', '/v1/capsules', JSON.stringify({ name: nul, system_prompt: 's' })],
      ['POST', '/v1/capsules', JSON.stringify({ name: 'n', system_prompt: 's', tools: [{ name: 'calculator', config: { [nul]: 1 } }] })],
      ['PATCH', `/v1/capsules/${capsuleId}`, JSON.stringify({ system_prompt: nul })],
      ['POST', '/v1/conversations', JSON.stringify({ capsule_id: capsuleId, title: nul })],
      ['POST', '/v1/memory/remember', JSON.stringify({ capsule_id: capsuleId, key: 'k', content: nul })],
      ['POST', '/v1/memory/remember', JSON.stringify({ capsule_id: capsuleId, key: nul, content: 'c' })],
      ['POST', '/v1/memory/recall', JSON.stringify({ capsule_id: capsuleId, query: nul })],
    ];
    for (const [method, route, rawBody] of cases) {
      const response = await call(method, route, { rawBody });
      expect(response.status, `${method} ${route} ${rawBody.slice(0, 60)}`).toBe(400);
      expect(response.body.error?.code).toBe('VALIDATION_FAILED');
      expect(response.body.error?.message).toMatch(/NUL|surrogate/);
    }
    const tenant = await call('POST', '/v1/admin/tenants', { key: ADMIN_TOKEN, rawBody: JSON.stringify({ name: nul }) });
    expect(tenant.status).toBe(400);
    expect((await call('GET', `/v1/capsules?cursor=${encodeURIComponent(nul)}`)).status).toBe(400);
    expect(await rowCounts()).toEqual(before);
    // Surrogate pairs (an emoji) are text like any other.
    expect((await call('POST', '/v1/memory/remember', { body: { capsule_id: capsuleId, key: 'emoji', content: 'a 😀 note' } })).status).toBe(200);
  });

  it('refuses recall weights that make no score (tau 0) with 400 and scores with valid ones (probe: score null)', async () => {
    const weights = { alpha: 1, beta: 0.2, gamma: 0.1, tau: 0, lambda: 1, mu: 0.1, nu: 0.05 };
    const refused = await call('POST', '/v1/memory/recall', { body: { capsule_id: capsuleId, query: 'note', weights } });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toMatch(/weights\.tau/);
    for (const tau of [0.01, 100]) {
      const recalled = await call('POST', '/v1/memory/recall', { body: { capsule_id: capsuleId, query: 'note', weights: { ...weights, tau, alpha: 100 } } });
      expect(recalled.status).toBe(200);
      const results = recalled.body.results as { score: unknown }[];
      expect(results.length).toBeGreaterThan(0);
      for (const result of results) expect(Number.isFinite(result.score)).toBe(true);
    }
  });

  it('refuses a message longer than the context lets in with 413, or cuts it when the capsule says truncate (probe: 100,000 characters)', async () => {
    const before = await rowCounts();
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(2_300).slice(0, 100_000);
    const refused = await call('POST', `/v1/conversations/${conversationId}/messages`, { body: { content: long } });
    expect(refused.status).toBe(413);
    expect(refused.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(refused.body.error?.message).toMatch(/more than the 2048 this capsule's context \(8192 tokens\) lets in/);
    expect(refused.body.error?.message).toMatch(/message_overflow/);
    expect(await rowCounts()).toEqual(before);

    const cutting = ((await (await t.request('POST', '/v1/capsules', { key, body: { name: 'cuts', system_prompt: 's', learning_config: { message_overflow: 'truncate' } } })).json()) as { id: string }).id;
    const conversation = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: cutting } })).json()) as { id: string }).id;
    const answered = await call('POST', `/v1/conversations/${conversation}/messages`, { body: { content: long } });
    expect(answered.status).toBe(200);
    const trace = await call('GET', `/v1/trace/${answered.body.turn_id as string}?include_messages=true`);
    const iteration = (trace.body.iterations as { prompt_tokens: number }[])[0]!;
    expect(iteration.prompt_tokens).toBeLessThanOrEqual(8192);
    const user = (trace.body.messages as { role: string; content: string; metadata: Record<string, unknown> }[]).find((m) => m.role === 'user')!;
    expect(user.content.length).toBeLessThan(long.length);
    expect(long.startsWith(user.content)).toBe(true);
    expect(user.metadata.truncated_from_tokens).toBeGreaterThan(2048);
  });

  it('answers 405 with Allow for an undeclared method on a known path, 404 for an unknown path', async () => {
    const put = await call('PUT', `/v1/capsules/${capsuleId}`, { body: { name: 'x' } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, PATCH');
    expect((await call('DELETE', '/v1/capsules')).headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await call('DELETE', '/v1/memory/recall')).status).toBe(405);
    expect((await call('GET', '/v1/nothing-here')).status).toBe(404);
  });

  it('declares its bounds: integers above 2^53 and "both rollback points" are schema errors (400), cross-field rules 422', async () => {
    const big = await call('POST', '/v1/learning/publish_turn_metrics', {
      rawBody: `{"capsule_id":"${capsuleId}","turn_id":"00000000-0000-4000-8000-000000000000","iteration_number":0,"tools_used":[],"confidence":0.5,"convergence_score":0.5,"tool_success_rate":1,"latency_ms":1,"prompt_tokens":9007199254740993,"completion_tokens":1,"novelty":0.5}`,
    });
    expect(big.status).toBe(400);
    expect((await call('POST', `/v1/capsules/${capsuleId}/learning/rollback`, { body: { to_seq: 1, to_turn_id: '00000000-0000-4000-8000-000000000000' } })).status).toBe(400);
    const twice = await call('POST', '/v1/capsules', { body: { name: 'x', system_prompt: 's', tools: [{ name: 'calculator' }, { name: 'calculator' }] } });
    expect(twice.status).toBe(422);
    expect(twice.body.error?.code).toBe('INVALID_COMBINATION');
    const bounds = await call('POST', '/v1/capsules', { body: { name: 'x', system_prompt: 's', learning_config: { weights: { alpha: { min: 6 } } } } });
    expect(bounds.status).toBe(422);

    const spec = (await (await t.request('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>> };
    expect(spec.paths['/v1/trace/{turn_id}']!.get!.responses['200']!.content!['application/json']!.schema.$ref).toBe('#/components/schemas/TurnTrace');
    expect(spec.paths['/v1/events']!.get!.responses['200']!.content!['application/json']!.schema.$ref).toBe('#/components/schemas/EventPage');
    expect(Object.keys(spec.paths['/v1/conversations/{id}/messages']!.post!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '413', '422', '429', '503']));
  });

  it('declares "no NUL" as not-pattern and no anchored pattern on long strings (Schemathesis fuzzing once grew past 20 GB on them)', async () => {
    const spec: unknown = await (await t.request('GET', '/openapi.json')).json();
    const long: { at: string; pattern?: string; not?: unknown }[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${at}/${i}`));
      if (!node || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      if (typeof schema.maxLength === 'number' && schema.maxLength >= 1000) long.push({ at, pattern: schema.pattern as string | undefined, not: schema.not });
      for (const [key, value] of Object.entries(schema)) walk(value, `${at}/${key}`);
    };
    walk(spec, '');
    expect(long.length).toBeGreaterThan(5);
    for (const { at, pattern } of long) expect(pattern ?? '', at).not.toMatch(/^\^.*[*+}]\)?\$$/);
    const content = long.find(({ at }) => at.endsWith('/MessageCreate/properties/content'));
    expect(content).toMatchObject({ not: { pattern: '\\u0000' } });
    expect(long.find(({ at }) => at.endsWith('/RememberRequest/properties/content'))).toMatchObject({ not: { pattern: '\\u0000' } });
    // What the declaration says is what the server does: blank and NUL are refused, text around them is not.
    const send = (content: string) => call('POST', `/v1/conversations/${conversationId}/messages`, { body: { content } });
    expect((await send(' \u00a0\t\n')).status).toBe(400);
    expect((await send('a\u0000')).status).toBe(400);
    expect((await call('POST', '/v1/memory/remember', { body: { capsule_id: capsuleId, key: 'spaced', content: '  x  ' } })).status).toBe(200);
  });

  it('never puts SQL, a stack or a file path in an error body (scans every error answered above)', async () => {
    // A database failure inside the brain: its message once quoted the statement and all parameters.
    await t.soma.database.query(sql`alter table memories add constraint probe_no_x check (key <> 'fails')`);
    try {
      const failed = await call('POST', '/v1/memory/remember', { body: { capsule_id: capsuleId, key: 'fails', content: 'secret parameter value' } });
      expect(failed.status).toBe(503);
      expect(failed.text).not.toContain('secret parameter value');
    } finally {
      await t.soma.database.query(sql`alter table memories drop constraint probe_no_x`);
    }
    expect(errorBodies.length).toBeGreaterThan(25);
    for (const body of errorBodies) for (const leak of leaks) expect(body, body.slice(0, 200)).not.toMatch(leak);
  });
});
