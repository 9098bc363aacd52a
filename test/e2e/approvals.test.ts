import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelFactory } from '../../src/adapters/model/model-factory.js';
import type { ChatMessage, ChatModel } from '../../src/ports/chat-model.js';
import type { ModelFactory } from '../../src/ports/model-factory.js';
import { drivers } from '../support/databases.js';
import { readEvents, startTestSoma, type SseEvent, type TestSoma } from '../support/soma.js';

/** Iteration 0 asks for the calculator (which needs approval); iteration 1 answers with what it saw. */
const script = {
  turns: [
    {
      iterations: [
        { text: 'I will compute that.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.3] },
        { text: 'Six times seven is 42.', logprobs: [-0.01, -0.01], final: true },
      ],
    },
  ],
};

/** The scripted model, recording the messages of every call (what the model saw). */
function spyModels(prompts: ChatMessage[][]) {
  return (config: { modelsDir?: string; model: string }): ModelFactory => {
    // The operator's default model (the test's scripted file) is trusted, as in the composition root.
    const real = createModelFactory({ ...(config.modelsDir ? { modelsDir: config.modelsDir } : {}), operatorModels: [config.model] });
    return {
      describe: (spec) => real.describe(spec),
      get: (spec) => {
        const model = real.get(spec);
        const spy: ChatModel = { ...model, countTokens: (text) => model.countTokens(text), stream: (options) => (prompts.push(options.messages), model.stream(options)) };
        return spy;
      },
    };
  };
}

describe.each(drivers())('approvals: a call that needs a person pauses the turn (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let tenantId: string;
  let capsuleId: string;
  const prompts: ChatMessage[][] = [];

  beforeAll(async () => {
    t = await startTestSoma({ driver, script, env: { SOMA_SWEEP_INTERVAL_MS: '200' }, models: spyModels(prompts) });
    ({ id: tenantId, api_key: key } = await t.tenant());
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'careful', system_prompt: 'Use tools.', tools: [{ name: 'calculator', requires_approval: true }] } })).json()) as { id: string };
    capsuleId = capsule.id;
  });
  afterAll(async () => t?.close());

  const conversation = async (apiKey = key) => ((await (await t.request('POST', '/v1/conversations', { key: apiKey, body: { capsule_id: capsuleId } })).json()) as { id: string }).id;
  const sse = async (conversationId: string) => readEvents(await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'What is 6*7?' }, headers: { accept: 'text/event-stream' } }));
  const follow = async (turnId: string, after: number) => readEvents(await t.request('GET', `/v1/turns/${turnId}/events`, { key, headers: { 'last-event-id': String(after) } }));
  const decide = (turnId: string, body: Record<string, unknown>, apiKey = key) => t.request('POST', `/v1/turns/${turnId}/approvals`, { key: apiKey, body });
  const status = async (turnId: string) => (await (await t.request('GET', `/v1/turns/${turnId}`, { key })).json()) as { status: string; exit_reason: string | null; pending_approvals: { call_id: string }[]; answer: { content: string; partial: boolean } | null };
  const pausedCall = (events: SseEvent[]) => events.find((e) => e.event === 'tool.approval_required')!.data as { call_id: string; name: string; args: unknown; iteration: number };
  const outboxTypes = async (turnId: string) =>
    (await t.database.query<{ event_type: string }>(sql`select event_type from outbox_messages where turn_id = ${turnId} order by seq`)).map((r) => r.event_type);

  it('over SSE: pauses with tool.approval_required, lists it, and on approval runs the tool and completes', async () => {
    const first = await sse(await conversation());
    const turnId = String(first[0]!.data.turn_id);
    const call = pausedCall(first);
    expect(call).toMatchObject({ iteration: 0, name: 'calculator', args: { expression: '6*7' } });
    expect(first.map((e) => e.event)).not.toContain('turn.completed');
    expect(first.at(-1)!.event).toBe('iteration.completed');
    expect(first.find((e) => e.event === 'tool.result')).toBeUndefined(); // not run
    expect((await status(turnId)).status).toBe('awaiting_approval');
    expect(await outboxTypes(turnId)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.approval_requested']);

    const pending = (await (await t.request('GET', '/v1/approvals?status=pending', { key })).json()) as { approvals: { turn_id: string; call_id: string; name: string; status: string }[] };
    expect(pending.approvals.filter((a) => a.turn_id === turnId)).toMatchObject([{ call_id: call.call_id, name: 'calculator', status: 'pending' }]);

    const decided = await decide(turnId, { call_id: call.call_id, approved: true });
    expect(decided.status).toBe(202);
    const rest = await follow(turnId, first.at(-1)!.id!);
    const result = rest.find((e) => e.event === 'tool.result')!;
    expect(result.data).toMatchObject({ iteration: 0, call_id: call.call_id, ok: true, result: { result: 42 } });
    expect(rest.at(-1)).toMatchObject({ event: 'turn.completed', data: { content: 'Six times seven is 42.', exit_reason: 'llm_completed', iterations: 2, tools_used: ['calculator'] } });
    // Ids go on where the first stream stopped, with nothing missing or repeated.
    expect([...first, ...rest].map((e) => e.id)).toEqual([...first, ...rest].map((_, i) => i + 1));
    expect(JSON.stringify(prompts.at(-1))).toContain('42');
    expect(await outboxTypes(turnId)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.approval_requested', 'chat.approval_decided', 'chat.iteration_completed', 'chat.turn_complete']);
    expect((await status(turnId)).answer).toMatchObject({ content: 'Six times seven is 42.', partial: false });
    // Nothing ran twice: one calculator outcome, on the approval.
    const [approval] = await t.database.query<{ status: string; outcome: { ok: boolean } }>(sql`select status, outcome from approvals where turn_id = ${turnId}`);
    expect(approval).toMatchObject({ status: 'approved', outcome: { ok: true } });
  });

  it('over JSON: the message answers 202 with the pause; a denial reaches the model as a tool error', async () => {
    const response = await t.request('POST', `/v1/conversations/${await conversation()}/messages`, { key, body: { content: 'What is 6*7?' } });
    expect(response.status).toBe(202);
    const paused = (await response.json()) as { turn_id: string; status: string; approvals: { call_id: string; name: string }[] };
    expect(paused).toMatchObject({ status: 'awaiting_approval', approvals: [{ name: 'calculator' }] });
    const before = prompts.length;
    expect((await decide(paused.turn_id, { call_id: paused.approvals[0]!.call_id, approved: false, reason: 'not today' })).status).toBe(202);
    await waitFor(async () => (await status(paused.turn_id)).status === 'completed');
    const seen = JSON.stringify(prompts.slice(before));
    expect(seen).toContain('not today');
    expect(seen).toContain('denied');
    const trace = (await (await t.request('GET', `/v1/trace/${paused.turn_id}`, { key })).json()) as { iterations: unknown[]; exit_reason: string };
    expect(trace).toMatchObject({ exit_reason: 'llm_completed' });
    expect(trace.iterations).toHaveLength(2);
    // The replay of a paused-and-resumed turn is exact (the denial is played back from the approval).
    const replay = (await (await t.request('POST', `/v1/turns/${paused.turn_id}/replay`, { key, body: {} })).json()) as { identical: boolean; differences: unknown[] };
    expect(replay.differences).toEqual([]);
    expect(replay.identical).toBe(true);
  });

  it.each([
    ['blocking JSON', {}],
    ['Prefer: respond-async', { prefer: 'respond-async' }],
  ])('over JSON (%s): the pause is read and approved with JSON calls only; the tool runs once and the turn completes', async (_mode, headers) => {
    const response = await t.request('POST', `/v1/conversations/${await conversation()}/messages`, { key, body: { content: 'What is 6*7?' }, headers });
    expect(response.status).toBe(202);
    const { turn_id: turnId } = (await response.json()) as { turn_id: string };
    await waitFor(async () => (await status(turnId)).status === 'awaiting_approval');
    const paused = await status(turnId);
    expect(paused.pending_approvals).toHaveLength(1);
    const callId = paused.pending_approvals[0]!.call_id;
    const before = prompts.length;
    const decided = await decide(turnId, { call_id: callId, approved: true });
    expect(decided.status).toBe(202);
    expect(await decided.json()).toMatchObject({ turn_id: turnId, approval: { call_id: callId, status: 'approved' } });
    await waitFor(async () => (await status(turnId)).status === 'completed');
    const done = await status(turnId);
    expect(done).toMatchObject({ exit_reason: 'llm_completed', pending_approvals: [], answer: { content: 'Six times seven is 42.', partial: false } });
    // The model saw the tool's result, the calculator ran once, on the approval.
    expect(JSON.stringify(prompts.slice(before))).toContain('42');
    const approvals = await t.database.query<{ status: string; outcome: { ok: boolean; result: unknown } }>(sql`select status, outcome from approvals where turn_id = ${turnId}`);
    expect(approvals).toMatchObject([{ status: 'approved', outcome: { ok: true, result: { result: 42 } } }]);
    expect(await outboxTypes(turnId)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.approval_requested', 'chat.approval_decided', 'chat.iteration_completed', 'chat.turn_complete']);
    const trace = (await (await t.request('GET', `/v1/trace/${turnId}`, { key })).json()) as { iterations: unknown[] };
    expect(trace.iterations).toHaveLength(2);
  });

  it('over SSE: a denial streams as a failed tool.result on the followed stream, and the model sees it as a tool error', async () => {
    const first = await sse(await conversation());
    const turnId = String(first[0]!.data.turn_id);
    const call = pausedCall(first);
    expect(first.at(-1)!.event).toBe('iteration.completed');
    const before = prompts.length;
    expect((await decide(turnId, { call_id: call.call_id, approved: false, reason: 'not today' })).status).toBe(202);
    const rest = await follow(turnId, first.at(-1)!.id!);
    const result = rest.find((e) => e.event === 'tool.result')!;
    expect(result.data).toMatchObject({ iteration: 0, call_id: call.call_id, ok: false });
    expect(String(result.data.error)).toContain('not today');
    expect(rest.map((e) => e.event)).not.toContain('error');
    expect(rest.at(-1)).toMatchObject({ event: 'turn.completed', data: { exit_reason: 'llm_completed', iterations: 2 } });
    expect([...first, ...rest].map((e) => e.id)).toEqual([...first, ...rest].map((_, i) => i + 1));
    const seen = JSON.stringify(prompts.slice(before));
    expect(seen).toContain('not today');
    expect(seen).toContain('denied');
    const [approval] = await t.database.query<{ status: string; outcome: { ok: boolean } }>(sql`select status, outcome from approvals where turn_id = ${turnId}`);
    expect(approval).toMatchObject({ status: 'denied', outcome: { ok: false } });
    expect(await outboxTypes(turnId)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.approval_requested', 'chat.approval_decided', 'chat.iteration_completed', 'chat.turn_complete']);
  });

  it('refuses an unknown call, a second decision, and decisions by non-participants or other tenants', async () => {
    const paused = (await (await t.request('POST', `/v1/conversations/${await conversation()}/messages`, { key, body: { content: 'What is 6*7?' } })).json()) as { turn_id: string; approvals: { call_id: string }[] };
    const callId = paused.approvals[0]!.call_id;
    const unknown = await decide(paused.turn_id, { call_id: 'no-such-call', approved: true });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('APPROVAL_NOT_FOUND');
    const colleague = await t.apiKey(tenantId, 'colleague');
    const stranger = (await t.tenant('other')).api_key;
    for (const other of [colleague, stranger]) {
      expect((await decide(paused.turn_id, { call_id: callId, approved: true }, other)).status).toBe(404);
      expect((await t.request('GET', `/v1/turns/${paused.turn_id}`, { key: other })).status).toBe(404);
      expect((await t.request('GET', `/v1/turns/${paused.turn_id}/events`, { key: other })).status).toBe(404);
      expect((await t.request('POST', `/v1/turns/${paused.turn_id}/resume`, { key: other })).status).toBe(404);
      const theirs = (await (await t.request('GET', '/v1/approvals?status=pending', { key: other })).json()) as { approvals: unknown[] };
      expect(theirs.approvals).toEqual([]);
    }
    expect((await status(paused.turn_id)).status).toBe('awaiting_approval');
    expect((await decide(paused.turn_id, { call_id: callId, approved: false })).status).toBe(202);
    const again = await decide(paused.turn_id, { call_id: callId, approved: true });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain('already denied');
    await waitFor(async () => (await status(paused.turn_id)).status === 'completed');
  });

  it('policy still decides after approval: a tool denied meanwhile is not run', async () => {
    const paused = (await (await t.request('POST', `/v1/conversations/${await conversation()}/messages`, { key, body: { content: 'What is 6*7?' } })).json()) as { turn_id: string; approvals: { call_id: string }[] };
    const patched = await t.request('PATCH', `/v1/capsules/${capsuleId}`, { key, body: { tool_policy: { denied: ['calculator'] } } });
    expect(patched.status).toBe(200);
    try {
      await decide(paused.turn_id, { call_id: paused.approvals[0]!.call_id, approved: true });
      await waitFor(async () => (await status(paused.turn_id)).status === 'completed');
      const [approval] = await t.database.query<{ status: string; outcome: { ok: boolean; outcome: string; error: string } }>(sql`select status, outcome from approvals where turn_id = ${paused.turn_id}`);
      expect(approval).toMatchObject({ status: 'approved', outcome: { ok: false, outcome: 'denied' } });
      expect(approval!.outcome.error).toContain('denied by policy');
    } finally {
      await t.request('PATCH', `/v1/capsules/${capsuleId}`, { key, body: { tool_policy: {} } });
    }
  });

  it('a call nobody decides within approval_timeout_s counts as denied and the turn completes', async () => {
    const quick = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'impatient', system_prompt: 'Use tools.', tools: [{ name: 'calculator' }], tool_policy: { approval_required: ['calculator'], approval_timeout_s: 1 } } })).json()) as { id: string };
    const conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: quick.id } })).json()) as { id: string }).id;
    const paused = (await (await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'What is 6*7?' } })).json()) as { turn_id: string; approvals: { call_id: string; expires_at: string }[] };
    expect(Date.parse(paused.approvals[0]!.expires_at) - Date.now()).toBeLessThan(1_500);
    await waitFor(async () => (await status(paused.turn_id)).status === 'completed', 15_000);
    const [approval] = await t.database.query<{ status: string; outcome: { ok: boolean; error: string } }>(sql`select status, outcome from approvals where turn_id = ${paused.turn_id}`);
    expect(approval).toMatchObject({ status: 'expired', outcome: { ok: false } });
    expect(approval!.outcome.error).toContain('nobody decided');
  });

  it('a paused turn survives a restart of the server and completes when approved after it', async () => {
    const first = await sse(await conversation());
    const turnId = String(first[0]!.data.turn_id);
    await t.restart();
    expect((await status(turnId)).status).toBe('awaiting_approval');
    expect((await decide(turnId, { call_id: pausedCall(first).call_id, approved: true })).status).toBe(202);
    const rest = await follow(turnId, first.at(-1)!.id!);
    expect(rest.at(-1)).toMatchObject({ event: 'turn.completed', data: { content: 'Six times seven is 42.', exit_reason: 'llm_completed' } });
    // After the restart, a stream from the start is the whole turn, from storage.
    const whole = await follow(turnId, 0);
    expect(whole.map((e) => e.id)).toEqual(whole.map((_, i) => i + 1));
    expect(whole.map((e) => `${e.id}:${e.event}`)).toEqual([...first, ...rest].map((e) => `${e.id}:${e.event}`));
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
