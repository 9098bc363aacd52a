import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { ADMIN_TOKEN, readEvents, startTestSoma, type TestSoma } from '../support/soma.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loose JSON of API answers, checked field by field
type Json = Record<string, any>;

const script = {
  turns: [
    {
      match: '6*7',
      iterations: [
        { text: 'Let me compute 6*7.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.4] },
        { text: '6*7 is 42.', logprobs: [-0.3, -0.2] },
        { text: '6*7 = 42.', logprobs: [-0.01, -0.02] },
      ],
    },
    { iterations: [{ text: 'Hello.', confidence: 0.9, final: true }] },
  ],
};

describe.each(drivers())('Studio APIs: catalogue, conversation list and replay (%s)', (driver) => {
  let t: TestSoma;
  let tenant: { id: string; api_key: string };
  let key: string;
  let other: string;
  let colleague: string;
  let capsuleId: string;
  let conversationId: string;
  let turnId: string;

  const call = async (method: string, route: string, options: { key?: string; body?: unknown; rawBody?: string } = {}) => {
    const response = await t.request(method, route, options);
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    t = await startTestSoma({ driver, script, env: { SOMA_ALLOW_SCRIPTED_MODELS: 'true' } });
    tenant = await t.tenant('acme');
    key = tenant.api_key;
    other = (await t.tenant('rival')).api_key;
    colleague = ((await (await t.request('POST', `/v1/admin/tenants/${tenant.id}/api-keys`, { key: ADMIN_TOKEN, body: { user_id: 'colleague' } })).json()) as { api_key: string }).api_key;
    capsuleId = (await call('POST', '/v1/capsules', { key, body: { name: 'calc', system_prompt: 'Use the calculator.', tools: [{ name: 'calculator' }] } })).body.id;
    conversationId = (await call('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId, title: 'maths' } })).body.id;
    const response = await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'What is 6*7?' }, headers: { accept: 'text/event-stream' } });
    const events = await readEvents(response);
    turnId = String(events[0]!.data.turn_id);
    expect(events.at(-1)!.event).toBe('turn.completed');
  });
  afterAll(async () => t?.close());

  describe('GET /v1/catalogue', () => {
    it('lists every built-in tool with its argument schema, and the models a capsule may choose', async () => {
      const { status, body } = await call('GET', '/v1/catalogue', { key });
      expect(status).toBe(200);
      expect(body.tools.map((tool: Json) => tool.name).sort()).toEqual(['calculator', 'current_time', 'http_fetch', 'memory_search']);
      const calculator = body.tools.find((tool: Json) => tool.name === 'calculator');
      expect(calculator.input_schema).toMatchObject({ type: 'object', required: ['expression'] });
      expect(calculator.description).toMatch(/expression/i);
      expect(body.models.providers.map((p: Json) => p.prefix)).toEqual(['openai', 'anthropic', 'openai-compatible', 'local', 'scripted']);
      expect(body.models.providers.find((p: Json) => p.prefix === 'openai').available).toBe(false);
      expect(body.models.providers.find((p: Json) => p.prefix === 'openai').reason).toContain('OPENAI_API_KEY');
      // No SOMA_MCP_SERVERS on this server: a capsule can name no MCP server.
      expect(body.mcp_servers).toEqual([]);
    });

    it('names the default model without revealing the operator\u2019s file path', async () => {
      const { body } = await call('GET', '/v1/catalogue', { key });
      expect(body.models.default).toBe('scripted:script');
      expect(JSON.stringify(body)).not.toContain(t.scriptFile);
    });

    it('needs an API key', async () => {
      expect((await call('GET', '/v1/catalogue')).status).toBe(401);
    });
  });

  describe('GET /v1/conversations', () => {
    it('lists the caller\u2019s conversations newest first, by capsule, page by page', async () => {
      const second = (await call('POST', '/v1/conversations', { key, body: { capsule_id: capsuleId, title: 'second' } })).body.id;
      const all = await call('GET', '/v1/conversations', { key });
      expect(all.status).toBe(200);
      expect(all.body.conversations.map((c: Json) => c.id)).toEqual([second, conversationId]);
      expect(all.body.conversations[1]).toMatchObject({ title: 'maths', capsule_id: capsuleId, message_count: 2, role: 'owner' });
      const first = await call('GET', '/v1/conversations?limit=1', { key });
      expect(first.body.conversations.map((c: Json) => c.id)).toEqual([second]);
      const next = await call('GET', `/v1/conversations?limit=1&cursor=${first.body.next_cursor}`, { key });
      expect(next.body.conversations.map((c: Json) => c.id)).toEqual([conversationId]);
      expect(next.body.next_cursor).toBeNull();
      const otherCapsule = (await call('POST', '/v1/capsules', { key, body: { name: 'empty', system_prompt: 'x' } })).body.id;
      expect((await call('GET', `/v1/conversations?capsule_id=${otherCapsule}`, { key })).body.conversations).toEqual([]);
    });

    it('shows neither another tenant\u2019s nor a colleague\u2019s conversations', async () => {
      expect((await call('GET', '/v1/conversations', { key: other })).body.conversations).toEqual([]);
      expect((await call('GET', '/v1/conversations', { key: colleague })).body.conversations).toEqual([]);
    });

    it('refuses a bad cursor or capsule id with 400', async () => {
      expect((await call('GET', '/v1/conversations?cursor=nonsense', { key })).status).toBe(400);
      expect((await call('GET', '/v1/conversations?capsule_id=12', { key })).status).toBe(400);
    });
  });

  describe('POST /v1/turns/:turn_id/replay', () => {
    it('replays a recorded turn and finds it identical', async () => {
      const { status, body } = await call('POST', `/v1/turns/${turnId}/replay`, { key });
      expect(status).toBe(200);
      expect(body).toMatchObject({ turn_id: turnId, identical: true, counterfactual: false, differences: [] });
      expect(body.recorded.iterations).toBe(3);
      expect(body.replayed.iterations).toBe(3);
      expect(body.replayed.exit_reason).toBe(body.recorded.exit_reason);
    });

    it('accepts an empty JSON body the same way', async () => {
      expect((await call('POST', `/v1/turns/${turnId}/replay`, { key, body: {} })).body.identical).toBe(true);
    });

    it('runs a counterfactual without writing: a lower threshold stops earlier', async () => {
      const before = (await call('GET', `/v1/trace/${turnId}`, { key })).body;
      const learningBefore = (await call('GET', `/v1/capsules/${capsuleId}/learning`, { key })).body;
      const { status, body } = await call('POST', `/v1/turns/${turnId}/replay`, { key, body: { with: { threshold: 0.05 } } });
      expect(status).toBe(200);
      expect(body.counterfactual).toBe(true);
      expect(body.replayed.iterations).toBeLessThan(3);
      expect(body.replayed.exit_reason).toBe('converged');
      expect(body.differences).toContainEqual({ iteration: 2, field: 'iteration', recorded: 'present', replayed: 'absent' });
      expect((await call('GET', `/v1/trace/${turnId}`, { key })).body).toEqual(before);
      expect((await call('GET', `/v1/capsules/${capsuleId}/learning`, { key })).body).toEqual(learningBefore);
    });

    it('changes the learning with a learning constant', async () => {
      const exact = (await call('POST', `/v1/turns/${turnId}/replay`, { key })).body;
      // The default perturbation rule moves no weight on one turn without evidence; SPEC §5's gain rule moves them at once.
      const { status, body } = await call('POST', `/v1/turns/${turnId}/replay`, { key, body: { with: { update_rule: 'gain', lr_base: 0.5, learn_threshold: 0 } } });
      expect(status).toBe(200);
      expect(body.counterfactual).toBe(true);
      expect(body.replayed.final_weights).not.toEqual(exact.replayed.final_weights);
    });

    it('refuses a bad counterfactual with a 400 that names the field', async () => {
      const threshold = await call('POST', `/v1/turns/${turnId}/replay`, { key, body: { with: { threshold: 7 } } });
      expect(threshold.status).toBe(400);
      expect(threshold.body.error.message).toContain('threshold');
      const unknown = await call('POST', `/v1/turns/${turnId}/replay`, { key, body: { with: { no_such_constant: 1 } } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('VALIDATION_FAILED');
      const notJson = await call('POST', `/v1/turns/${turnId}/replay`, { key, rawBody: '{"with":' });
      expect(notJson.status).toBe(400);
    });

    it('answers 404 for another tenant\u2019s turn, a colleague outside the conversation, and unknown ids', async () => {
      for (const k of [other, colleague]) {
        const { status, body } = await call('POST', `/v1/turns/${turnId}/replay`, { key: k });
        expect(status).toBe(404);
        expect(body.error.code).toBe('TURN_NOT_FOUND');
      }
      expect((await call('POST', '/v1/turns/00000000-0000-4000-8000-000000000000/replay', { key })).status).toBe(404);
      expect((await call('POST', '/v1/turns/not-a-uuid/replay', { key })).status).toBe(400);
    });
  });

  it('documents the three routes in /openapi.json', async () => {
    const spec = (await call('GET', '/openapi.json')).body;
    expect(spec.paths['/v1/catalogue'].get).toBeDefined();
    expect(spec.paths['/v1/conversations'].get).toBeDefined();
    expect(spec.paths['/v1/conversations'].post).toBeDefined();
    expect(spec.paths['/v1/turns/{turn_id}/replay'].post).toBeDefined();
  });

  it('serves the Studio at / and keeps the API docs at /docs', async () => {
    const root = await t.request('GET', '/');
    expect([200, 503]).toContain(root.status);
    expect(root.headers.get('content-type')).toContain('text/html');
    expect(await root.text()).toContain('Soma Studio');
    expect((await t.request('GET', '/docs')).status).toBe(200);
    const unknownApi = await call('GET', '/v1/nothing-here', { key });
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.body.error.code).toBe('NOT_FOUND');
  });
});
