import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

const script = {
  turns: [
    {
      iterations: [
        { text: 'A first careful draft of the answer.', logprobs: [-0.7, -0.6] },
        { text: 'A second draft that streams very slowly word by word and is cut off by the client', tokens_per_s: 8 },
      ],
    },
  ],
};

describe.each(drivers())('a client that goes away mid-stream (%s)', (driver) => {
  let t: TestSoma;
  let baseUrl: string;
  let key: string;
  beforeAll(async () => {
    t = await startTestSoma({ driver, script });
    const { port } = await t.soma.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
    key = (await t.tenant()).api_key;
  });
  afterAll(async () => t?.close());

  it('cancels the turn, stores its best draft and leaves no half-written rows', async () => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const capsule = (await (await fetch(`${baseUrl}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'slow', system_prompt: 's' }) })).json()) as { id: string };
    const conversation = (await (await fetch(`${baseUrl}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };

    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/v1/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { ...headers, accept: 'text/event-stream' },
      body: JSON.stringify({ content: 'tell me something' }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    // Read until the second iteration is streaming, then hang up.
    while (!/event: iteration\.delta\ndata: \{"iteration":1/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended early');
      seen += decoder.decode(value);
    }
    controller.abort();

    // The turn closes in the server's finally path.
    let turn: { status: string; exit_reason: string; iterations: number; id: string } | undefined;
    for (let i = 0; i < 100; i++) {
      [turn] = await t.soma.database.query<{ status: string; exit_reason: string; iterations: number; id: string }>(sql`select id, status, exit_reason, iterations from turns`);
      if (turn && turn.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(turn?.status).toBe('interrupted');
    expect(turn?.exit_reason).toBe('cancelled');
    expect(turn?.iterations).toBe(1);
    const messages = await t.soma.database.query<{ role: string; content: string; turn_id: string }>(sql`select role, content, turn_id from messages order by created_at`);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]!.content).toBe('A first careful draft of the answer.');
    const [answer] = await t.soma.database.query<{ metadata: { partial: boolean } }>(sql`select metadata from messages where role = 'assistant'`);
    expect(answer!.metadata.partial).toBe(true);
    const iterations = await t.soma.database.query<{ exit_reason: string; metadata: { decided?: string } }>(sql`select exit_reason, metadata from rlm_iterations where turn_id = ${turn!.id}`);
    expect(iterations).toHaveLength(1);
    // The turn's exit is recorded on its last iteration (the loop's own decision kept) and counted.
    expect(iterations[0]!.exit_reason).toBe('cancelled');
    expect(iterations[0]!.metadata.decided).toBe('continue');
    const metrics = await (await t.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/^rlm_iterations_total\{exit_reason="cancelled"\} 1$/m);
    expect(metrics).not.toMatch(/^rlm_iterations_total\{exit_reason="continue"\}/m);
    const events = await t.soma.database.query<{ event_type: string }>(sql`select event_type from outbox_messages where payload->>'turn_id' = ${turn!.id} order by seq`);
    expect(events.map((e) => e.event_type)).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete']);
  });
});
