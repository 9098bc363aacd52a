import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers } from '../support/databases.js';
import { ADMIN_TOKEN, readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

const script = {
  turns: [
    { match: 'capital', iterations: [{ text: 'Paris, I think.', logprobs: [-1.2, -0.9] }, { text: 'The capital of France is Paris.', logprobs: [-0.6] }, { text: 'The capital of France is Paris.', logprobs: [-0.01, -0.02] }] },
    { iterations: [{ text: 'Hello! How can I help?', confidence: 0.9, final: true }] },
  ],
};

describe.each(drivers())('HTTP API on %s', (driver) => {
  let t: TestSoma;
  let key: string;
  let capsuleId: string;
  let conversationId: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => t?.close());

  const counts = async () => {
    const rows = await t.soma.database.query<{ n: number; table: string }>(sql`
      select 'messages' as table, count(*)::int as n from messages union all
      select 'turns', count(*)::int from turns union all
      select 'capsules', count(*)::int from capsules union all
      select 'conversations', count(*)::int from conversations union all
      select 'outbox', count(*)::int from outbox_messages`);
    return Object.fromEntries(rows.map((r) => [r.table, r.n]));
  };

  it('creates a capsule, a conversation and streams a turn over SSE in SPEC order', async () => {
    const capsule = await t.request('POST', '/v1/capsules', { key, body: { name: 'geo', system_prompt: 'You answer geography questions.' } });
    expect(capsule.status).toBe(201);
    const capsuleBody = (await capsule.json()) as { id: string; learned_weights: Record<string, number>; version: number };
    capsuleId = capsuleBody.id;
    expect(capsuleBody.learned_weights.alpha).toBe(1);
    const conversation = await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId } });
    expect(conversation.status).toBe(201);
    conversationId = ((await conversation.json()) as { id: string }).id;

    const response = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'What is the capital of France?' }, headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(response);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('turn.started');
    expect(names[1]).toBe('iteration.started');
    expect(names).toContain('iteration.delta');
    expect(names[names.length - 1]).toBe('turn.completed');
    // every iteration: started → deltas → completed
    const order = names.filter((n) => n !== 'iteration.delta');
    expect(order).toEqual(['turn.started', 'iteration.started', 'iteration.completed', 'iteration.started', 'iteration.completed', 'iteration.started', 'iteration.completed', 'turn.completed']);
    const completed = events[events.length - 1]!.data;
    // turn.started names the threshold this turn stops at: the operator's override (0.9 in these tests), not the capsule's 0.3.
    expect(events[0]!.data).toEqual({ turn_id: completed.turn_id, convergence_threshold: 0.9 });
    expect((capsuleBody as unknown as { rlm_convergence_threshold: number }).rlm_convergence_threshold).toBe(0.3);
    expect(completed.exit_reason).toBe('converged');
    expect(completed.iterations).toBe(3);
    expect(completed.content).toBe('The capital of France is Paris.');

    const messages = (await (await t.request('GET', `/v1/conversations/${conversationId}/messages`, { key })).json()) as { messages: { role: string; turn_id: string; content: string }[] };
    expect(messages.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages.messages[0]!.turn_id).toBe(completed.turn_id);
    expect(messages.messages[1]!.turn_id).toBe(completed.turn_id);
    const convo = (await (await t.request('GET', `/v1/conversations/${conversationId}`, { key })).json()) as { message_count: number };
    expect(convo.message_count).toBe(2);
  });

  it('answers with the turn.completed object as JSON without text/event-stream', async () => {
    const response = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'hi' } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { exit_reason: string; content: string; iterations: number; message_id: string };
    expect(body.exit_reason).toBe('llm_completed');
    expect(body.content).toBe('Hello! How can I help?');
    expect(body.iterations).toBe(1);
  });

  it('stores every iteration and its event, and serves the decision trace', async () => {
    const list = (await (await t.request('GET', `/v1/trace/conversation/${conversationId}?limit=1`, { key })).json()) as { total_turns: number; traces: { turn_id: string; total_iterations: number }[]; next_cursor: string | null };
    expect(list.total_turns).toBe(2);
    expect(list.traces).toHaveLength(1);
    expect(list.next_cursor).toBeTruthy();
    const next = (await (await t.request('GET', `/v1/trace/conversation/${conversationId}?limit=1&cursor=${list.next_cursor}`, { key })).json()) as typeof list;
    expect(next.traces).toHaveLength(1);
    expect(next.traces[0]!.turn_id).not.toBe(list.traces[0]!.turn_id);
    expect(next.next_cursor).toBeNull();
    const first = next.traces[0]!;
    expect(first.total_iterations).toBe(3);

    const trace = (await (await t.request('GET', `/v1/trace/${first.turn_id}?include_messages=true`, { key })).json()) as { iterations: Record<string, unknown>[]; messages: unknown[]; exit_reason: string };
    expect(trace.exit_reason).toBe('converged');
    expect(trace.iterations).toHaveLength(3);
    expect(trace.messages).toHaveLength(2);
    for (const field of ['weights_before', 'weights_after', 'weight_deltas', 'neuromodulators_before', 'neuromodulators_after', 'confidence', 'convergence_score', 'llm_output', 'content', 'exit_reason', 'latency_ms', 'tool_calls', 'tool_results', 'prompt_tokens', 'completion_tokens', 'metadata', 'started_at', 'completed_at']) {
      expect(trace.iterations[0]).toHaveProperty(field);
    }

    const events = (await (await t.request('GET', '/v1/events?after=0&limit=100', { key })).json()) as { events: { event_type: string; turn_id?: string; schema_version: number; event_id: string }[] };
    const ofTurn = events.events.filter((e) => e.turn_id === first.turn_id).map((e) => e.event_type);
    expect(ofTurn).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.iteration_completed', 'chat.iteration_completed', 'chat.turn_complete']);
    expect(events.events.every((e) => e.schema_version === 1 && typeof e.event_id === 'string')).toBe(true);
  });

  it('hides other tenants: every cross-tenant id is 404', async () => {
    const other = await t.tenant('other');
    const turns = (await (await t.request('GET', `/v1/trace/conversation/${conversationId}`, { key })).json()) as { traces: { turn_id: string }[] };
    for (const route of [`/v1/capsules/${capsuleId}`, `/v1/conversations/${conversationId}`, `/v1/conversations/${conversationId}/messages`, `/v1/trace/${turns.traces[0]!.turn_id}`, `/v1/trace/conversation/${conversationId}`]) {
      const response = await t.request('GET', route, { key: other.api_key });
      expect(response.status, route).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toMatch(/NOT_FOUND/);
    }
    const send = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key: other.api_key, body: { content: 'hi' } });
    expect(send.status).toBe(404);
    const events = (await (await t.request('GET', '/v1/events', { key: other.api_key })).json()) as { events: { event_type: string }[] };
    expect(events.events.filter((e) => e.event_type.startsWith('chat.'))).toHaveLength(0);
  });

  it('rejects bad input with a clear 4xx and writes nothing', async () => {
    const before = await counts();
    const cases: [string, string, Parameters<TestSoma['request']>[2], number][] = [
      ['POST', '/v1/capsules', { key, rawBody: '{"name": ' }, 400],
      ['POST', '/v1/capsules', { key, body: { system_prompt: 'x' } }, 400],
      ['POST', '/v1/capsules', { key, body: { name: 5, system_prompt: 'x' } }, 400],
      ['POST', '/v1/capsules', { key, body: { name: 'x', system_prompt: 'x', rlm_max_iterations: 50 } }, 400],
      ['POST', '/v1/capsules', { key, body: { name: 'x', system_prompt: 'x', tools: [{ name: 'nope' }] } }, 400],
      ['POST', '/v1/capsules', { key, body: { name: 'x', system_prompt: 'x', rlm_min_iterations: 5, rlm_max_iterations: 2 } }, 422],
      ['POST', '/v1/capsules', { key, body: { name: 'x', system_prompt: 'x'.repeat(1_100_000) } }, 413],
      ['POST', '/v1/conversations', { key, body: { capsule_id: '00000000-0000-4000-8000-000000000000' } }, 404],
      ['POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: '' } }, 400],
      ['POST', `/v1/conversations/${conversationId}/messages`, { key, body: {} }, 400],
      ['POST', `/v1/conversations/00000000-0000-4000-8000-000000000000/messages`, { key, body: { content: 'hi' } }, 404],
      ['GET', '/v1/capsules/not-a-uuid', { key }, 400],
      ['GET', '/v1/capsules', { key: 'soma_wrong' }, 401],
      ['GET', '/v1/capsules', {}, 401],
      ['POST', '/v1/admin/tenants', { key: 'wrong-admin-token-xxxxxx', body: { name: 'x' } }, 401],
    ];
    for (const [method, route, options, status] of cases) {
      const response = await t.request(method, route, options);
      expect(response.status, `${method} ${route} ${JSON.stringify(options).slice(0, 80)}`).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBeTruthy();
      expect(body.error.message).toBeTruthy();
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses a turn no model can serve with a plain 422 before any stream opens, writing no turn', async () => {
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'remote-only', system_prompt: 's', model: 'anthropic:claude-x' } })).json()) as { id: string };
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
    const before = await counts();
    const response = await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'hi' }, headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'NO_MODEL_AVAILABLE', message: expect.stringContaining('ANTHROPIC_API_KEY') });
    expect(await counts()).toEqual(before);
  });

  it('refuses a revoked key', async () => {
    const { id } = await t.tenant('revocable');
    const created = (await (await t.request('POST', `/v1/admin/tenants/${id}/api-keys`, { key: ADMIN_TOKEN, body: { user_id: 'bob' } })).json()) as { api_key: string; user_id: string };
    expect(created.user_id).toBe('bob');
    expect((await t.request('GET', '/v1/capsules', { key: created.api_key })).status).toBe(200);
    const { revokeApiKey } = await import('../../src/app/tenancy.js');
    await revokeApiKey(t.soma.ctx, { apiKey: created.api_key });
    expect((await t.request('GET', '/v1/capsules', { key: created.api_key })).status).toBe(401);
  });

  it('patches a capsule (version bump, event) and lists capsules', async () => {
    const patched = await t.request('PATCH', `/v1/capsules/${capsuleId}`, { key, body: { rlm_convergence_threshold: 0.8, tools: [{ name: 'calculator' }] } });
    expect(patched.status).toBe(200);
    const body = (await patched.json()) as { version: number; rlm_convergence_threshold: number; tools: { name: string }[] };
    expect(body.version).toBe(2);
    expect(body.tools.map((x) => x.name)).toEqual(['calculator']);
    const list = (await (await t.request('GET', '/v1/capsules', { key })).json()) as { capsules: { id: string }[] };
    expect(list.capsules.map((c) => c.id)).toContain(capsuleId);
  });

  it('remembers each turn and shows what was recalled in the next turn\'s trace', async () => {
    const first = (await (await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'my favourite colour is teal' } })).json()) as { turn_id: string };
    let stored = 0;
    for (let i = 0; i < 50 && stored === 0; i++) {
      [{ n: stored } = { n: 0 }] = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from memories where key = ${`turn:${first.turn_id}`}`);
      if (stored === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(stored).toBe(1);
    const second = (await (await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'what is my favourite colour?' } })).json()) as { turn_id: string };
    const trace = (await (await t.request('GET', `/v1/trace/${second.turn_id}`, { key })).json()) as { iterations: { metadata: { memories: { key: string; content: string; score: number }[] } }[] };
    const memories = trace.iterations[0]!.metadata.memories;
    expect(memories.map((m) => m.key)).toContain(`turn:${first.turn_id}`);
    expect(memories.find((m) => m.key === `turn:${first.turn_id}`)!.content).toContain('teal');
    // Every iteration shows the turn's memories, though only the first one stores them (src/app/trace.test.ts).
    for (const iteration of trace.iterations) expect(iteration.metadata.memories).toEqual(memories);
    const rows = await t.soma.database.query<{ iteration_number: number; stored: boolean }>(
      sql`select iteration_number, metadata ? 'memories' as stored from rlm_iterations where turn_id = ${second.turn_id} order by iteration_number`,
    );
    expect(rows.map((row) => row.stored)).toEqual(rows.map((row) => row.iteration_number === 0));
  });

  it('serves ops endpoints and OpenAPI 3.1', async () => {
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    expect((await t.request('GET', '/readyz')).status).toBe(200);
    const metrics = await (await t.request('GET', '/metrics')).text();
    expect(metrics).toContain('rlm_iterations_total{exit_reason="converged"} 1');
    expect(metrics).toContain('agent_turn_latency_seconds_bucket');
    expect(metrics).not.toMatch(/turn_id=/);
    const spec = (await (await t.request('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/capsules', '/v1/conversations/{id}/messages', '/v1/trace/{turn_id}', '/v1/events']));
    expect((await t.request('GET', '/docs')).status).toBe(200);
    const root = await t.request('GET', '/'); // Soma Studio (200, or 503 with how to build it)
    expect(root.headers.get('content-type')).toContain('text/html');
    expect(await root.text()).toContain('Soma Studio');
  });
});
