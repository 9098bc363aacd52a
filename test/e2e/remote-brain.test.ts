import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createBrainServer } from '../../src/main.js';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

const script = { turns: [{ iterations: [{ text: 'draft one', confidence: 0.4 }, { text: 'draft two is better', confidence: 0.8, final: true }] }] };

async function listen(app: { fetch: (r: Request) => Response | Promise<Response> }, port = 0): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => resolve({ server, port: info.port }));
  });
}
const close = (server: ServerType) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });

describe.each(drivers())('a remote brain that stops mid-run (%s)', (driver) => {
  let t: TestSoma;
  let brainServer: ServerType;
  let brainPort: number;
  let key: string;
  let conversationId: string;

  beforeAll(async () => {
    // Reserve a port for the brain, then start Soma pointing at it.
    const probe = await listen({ fetch: () => new Response('') });
    brainPort = probe.port;
    await close(probe.server);
    t = await startTestSoma({ driver, script, env: { SOMA_BRAIN_URL: `http://127.0.0.1:${brainPort}`, SOMA_BRAIN_TIMEOUT_MS: '3000' } });
    brainServer = (await listen((await createBrainServer({ config: t.soma.config, database: t.soma.database })).app, brainPort)).server;
    key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'remote', system_prompt: 's' } })).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => {
    await close(brainServer);
    await t?.close();
  });

  const turn = async () => (await (await t.request('POST', `/v1/conversations/${conversationId}/messages`, { key, body: { content: 'hello' } })).json()) as { turn_id: string; exit_reason: string };
  const learning = async (turnId: string) =>
    (await t.soma.database.query<{ learning: string }>(sql`select metadata->>'learning' as learning from rlm_iterations where turn_id = ${turnId} order by iteration_number`)).map((r) => r.learning);

  it('learns through the remote brain, completes turns with learning skipped while it is down, then resumes', async () => {
    const first = await turn();
    expect(first.exit_reason).toBe('llm_completed');
    expect((await learning(first.turn_id)).every((l) => l !== 'skipped')).toBe(true);
    const [{ v: versionBefore } = { v: 0 }] = await t.soma.database.query<{ v: number }>(sql`select learning_version::int as v from capsules`);
    expect(versionBefore).toBe(2);

    await close(brainServer);
    const second = await turn();
    expect(second.exit_reason).toBe('llm_completed');
    expect(await learning(second.turn_id)).toEqual(['skipped', 'skipped']);
    const [{ v: versionDown } = { v: 0 }] = await t.soma.database.query<{ v: number }>(sql`select learning_version::int as v from capsules`);
    expect(versionDown).toBe(versionBefore);
    expect((await (await t.request('GET', '/readyz')).json()) as { health: Record<string, string> }).toMatchObject({ health: { brain: 'unhealthy' } });
    const metrics = await (await t.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/somabrain_learning_skipped_total [1-9]/);

    brainServer = (await listen((await createBrainServer({ config: t.soma.config, database: t.soma.database })).app, brainPort)).server;
    const third = await turn();
    expect((await learning(third.turn_id)).every((l) => l !== 'skipped')).toBe(true);
    const history = await t.soma.database.query<{ seq: number }>(sql`select seq::int from learning_updates order by seq`);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4]);
  });
});
