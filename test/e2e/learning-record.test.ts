import { serve, type ServerType } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpBrain } from '../../src/adapters/brain/index.js';
import { createBrainServer } from '../../src/main.js';
import { drivers } from '../support/databases.js';
import { ADMIN_TOKEN, startTestSoma, type TestSoma } from '../support/soma.js';

const script = { turns: [{ iterations: [{ text: 'The answer is teal.', confidence: 0.9, final: true }] }] };

async function listen(app: { fetch: (r: Request) => Response | Promise<Response> }): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server, port: info.port }));
  });
}

describe.each(drivers())('learning records on %s', (driver) => {
  let t: TestSoma;
  let brainServer: ServerType;
  let key: string;
  let tenantId: string;
  let lostAnswers = 0;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    const brain = await createBrainServer({ config: t.soma.config, database: t.soma.database });
    const { server, port } = await listen(brain.app);
    brainServer = server;
    // A network that loses the brain's first answer to each publish: the step commits on the brain, the caller times out.
    const seen = new Set<string>();
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, { ...init, signal: null });
      const body = typeof init?.body === 'string' ? init.body : '';
      if (String(input).endsWith('/publish_turn_metrics') && !seen.has(body)) {
        seen.add(body);
        lostAnswers += 1;
        await new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true }));
      }
      return response;
    };
    // The Soma server learns through this brain over HTTP (as with SOMA_BRAIN_URL).
    t.soma.ctx.brain = createHttpBrain({ url: `http://127.0.0.1:${port}`, token: ADMIN_TOKEN, timeoutMs: 1_000, fetch: lossy });
    t.soma.ctx.settings.brainTimeoutMs = 2_000;
    const tenant = await t.tenant();
    key = tenant.api_key;
    tenantId = tenant.id;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => brainServer.close(() => resolve()));
    await t?.close();
  });

  it('a remote brain retry of the same step after a lost answer appends nothing and returns the stored result', async () => {
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'remote', system_prompt: 'Say teal.' } })).json()) as { id: string };
    const conversation = (await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string };
    const turn = (await (await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key, body: { content: 'colour?' } })).json()) as { turn_id: string };
    expect(lostAnswers).toBe(1);
    const rows = await t.soma.database.query<{ seq: number; source: string }>(sql`select seq::int, source from learning_updates where turn_id = ${turn.turn_id}`);
    expect(rows).toEqual([{ seq: 1, source: 'iteration' }]);
    const [iteration] = await t.soma.database.query<{ learning: string; seq: number }>(sql`select metadata->>'learning' as learning, (metadata->>'learning_seq')::int as seq from rlm_iterations where turn_id = ${turn.turn_id}`);
    expect(iteration).toEqual({ learning: 'applied', seq: 1 });
    const [capsuleRow] = await t.soma.database.query<{ v: number }>(sql`select learning_version::int as v from capsules where id = ${capsule.id}`);
    expect(capsuleRow!.v).toBe(1);
  });

  it("accepts the plan's exact §3.2 body and learns for the turn's capsule; a repeat returns the stored step", async () => {
    const [turn] = await t.soma.database.query<{ id: string; capsule_id: string }>(sql`select id, capsule_id from turns where tenant_id = ${tenantId} limit 1`);
    const planBody = {
      turn_id: turn!.id,
      iteration_number: 5,
      tools_used: ['web_search'],
      confidence: 0.92,
      latency_ms: 2341,
      weights: { alpha: 1.0, beta: 0.2, gamma: 0.1, tau: 0.7, lambda: 1.0, mu: 0.1, nu: 0.05 },
      neuromodulators: { dopamine: 0.5, serotonin: 0.5, norepinephrine: 0.5, acetylcholine: 0.5 },
      tenant: tenantId,
      persona: 'persona_id',
    };
    const first = await t.request('POST', '/v1/learning/publish_turn_metrics', { key, body: planBody });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { status: string; weights: Record<string, number>; neuromodulators: Record<string, number>; seq: number; capsule_id: string };
    expect(body.status).toBe('success');
    expect(body.capsule_id).toBe(turn!.capsule_id);
    expect(Object.keys(body.weights).sort()).toEqual(['alpha', 'beta', 'gamma', 'lambda', 'mu', 'nu', 'tau']);
    const again = (await (await t.request('POST', '/v1/learning/publish_turn_metrics', { key, body: planBody })).json()) as { seq: number; replayed: boolean };
    expect(again).toMatchObject({ seq: body.seq, replayed: true });
    const [{ n } = { n: 0 }] = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from learning_updates where turn_id = ${turn!.id} and iteration_number = 5`);
    expect(n).toBe(1);
    // Without a turn of this tenant, the persona must name the capsule.
    const unknown = await t.request('POST', '/v1/learning/publish_turn_metrics', { key, body: { ...planBody, turn_id: '00000000-0000-4000-8000-000000000001' } });
    expect(unknown.status).toBe(404);
    const byPersona = await t.request('POST', '/v1/learning/publish_turn_metrics', { key, body: { ...planBody, turn_id: '00000000-0000-4000-8000-000000000001', persona: turn!.capsule_id } });
    expect(byPersona.status).toBe(200);
  });

  it('a replay of a turn whose recorded system prompt was changed in the database reports the prompt difference', async () => {
    const [turn] = await t.soma.database.query<{ id: string }>(sql`select id from turns where tenant_id = ${tenantId} order by started_at limit 1`);
    const before = (await (await t.request('POST', `/v1/turns/${turn!.id}/replay`, { key, body: {} })).json()) as { identical: boolean; differences: { field: string }[] };
    expect(before.differences.filter((d) => d.field === 'prompt_hash')).toEqual([]);
    await t.soma.database.query(sql`update turns set settings = jsonb_set(settings, '{system_prompt}', '"Say mauve."') where id = ${turn!.id}`);
    const after = (await (await t.request('POST', `/v1/turns/${turn!.id}/replay`, { key, body: {} })).json()) as { identical: boolean; differences: { iteration: number; field: string }[] };
    expect(after.identical).toBe(false);
    expect(after.differences).toContainEqual(expect.objectContaining({ iteration: 0, field: 'prompt_hash' }));
  });
});

describe.each(drivers())('memory scope on %s', (driver) => {
  let t: TestSoma;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
  });
  afterAll(async () => t?.close());

  it("keeps each user's question and answer to that user, unless the capsule shares memory", async () => {
    const alice = await t.tenant('scoped');
    const bob = (await (await t.request('POST', `/v1/admin/tenants/${alice.id}/api-keys`, { key: ADMIN_TOKEN, body: {} })).json()) as { api_key: string };
    const trial = async (learning_config: Record<string, unknown>) => {
      const capsule = (await (await t.request('POST', '/v1/capsules', { key: alice.api_key, body: { name: 'scope', system_prompt: 's', learning_config } })).json()) as { id: string };
      const ask = async (apiKey: string, content: string) => {
        const conversation = (await (await t.request('POST', '/v1/conversations', { key: apiKey, body: { capsule_id: capsule.id } })).json()) as { id: string };
        const turn = (await (await t.request('POST', `/v1/conversations/${conversation.id}/messages`, { key: apiKey, body: { content } })).json()) as { turn_id: string };
        return turn.turn_id;
      };
      const aliceTurn = await ask(alice.api_key, 'my secret colour question');
      // Remembering is asynchronous: wait until Alice's question and answer are stored.
      for (let i = 0; i < 100; i += 1) {
        const [{ n } = { n: 0 }] = await t.soma.database.query<{ n: number }>(sql`select count(*)::int as n from memories where key = ${`turn:${aliceTurn}`}`);
        if (n === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const bobTurn = await ask(bob.api_key, 'what was the secret colour question?');
      const trace = (await (await t.request('GET', `/v1/trace/${bobTurn}`, { key: bob.api_key })).json()) as { iterations: { metadata: { memories: { key: string }[] } }[] };
      return trace.iterations[0]!.metadata.memories.map((m) => m.key).includes(`turn:${aliceTurn}`);
    };
    expect(await trial({})).toBe(false);
    expect(await trial({ memory_scope: 'capsule' })).toBe(true);
  });
});
