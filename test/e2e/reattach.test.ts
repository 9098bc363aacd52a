import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/databases.js';
import { parseEvents, startTestSoma, type SseEvent, type TestSoma } from '../support/soma.js';

/** Three iterations, each streaming slowly enough to be caught mid-turn. */
const script = {
  turns: [
    { match: 'quiet', iterations: [{ text: 'Quiet.', latency_ms: 500, logprobs: [-0.01], final: true }] },
    {
      iterations: [
        { text: 'A first rough draft of the answer with several words in it.', logprobs: [-0.9], tokens_per_s: 40 },
        { text: 'A second, better draft of the answer with several words in it.', logprobs: [-0.6], tokens_per_s: 40 },
        { text: 'The final draft of the answer with several words in it.', logprobs: [-0.01], final: true, tokens_per_s: 40 },
      ],
    },
  ],
};

describe.each(drivers())('event ids, reattach, heartbeats and background turns (%s)', (driver) => {
  let t: TestSoma;
  let baseUrl: string;
  let key: string;
  let conversationId: string;

  beforeAll(async () => {
    t = await startTestSoma({ driver, script, env: { SOMA_SSE_PING_MS: '150' } });
    const { port } = await t.soma.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
    key = (await t.tenant()).api_key;
    const capsule = (await (await t.request('POST', '/v1/capsules', { key, body: { name: 'slow', system_prompt: 's', rlm_min_iterations: 3 } })).json()) as { id: string };
    conversationId = ((await (await t.request('POST', '/v1/conversations', { key, body: { capsule_id: capsule.id } })).json()) as { id: string }).id;
  });
  afterAll(async () => t?.close());

  const headers = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  const startAsync = async () => {
    const response = await fetch(`${baseUrl}/v1/conversations/${conversationId}/messages`, { method: 'POST', headers: { ...headers(), prefer: 'respond-async' }, body: JSON.stringify({ content: 'tell me' }) });
    expect(response.status).toBe(202);
    expect(response.headers.get('preference-applied')).toBe('respond-async');
    return (await response.json()) as { turn_id: string; status: string };
  };
  /** Reads a turn's stream until `stop(text)` holds (or it ends); returns the raw text. */
  const readUntil = async (turnId: string, stop: (text: string) => boolean, lastEventId?: number) => {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/v1/turns/${turnId}/events`, { headers: { ...headers(), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': String(lastEventId) } : {}) }, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (stop(text)) break;
    }
    controller.abort();
    return text;
  };
  const status = async (turnId: string) => (await (await fetch(`${baseUrl}/v1/turns/${turnId}`, { headers: headers() })).json()) as { status: string; iterations: number; last_event_id: number; answer: { content: string } | null };
  const ids = (events: SseEvent[]) => events.map((e) => e.id);

  it('a respond-async turn completes with no client connected', async () => {
    const { turn_id, status: started } = await startAsync();
    expect(started).toBe('running');
    expect((await status(turn_id)).status).toBe('running');
    for (let i = 0; i < 200 && (await status(turn_id)).status === 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    const done = await status(turn_id);
    expect(done.status).toBe('completed');
    expect(done.iterations).toBe(3);
    expect(done.answer?.content).toBe('The final draft of the answer with several words in it.');
  });

  it('reattaching with Last-Event-ID mid-turn and after completion gives exactly the missing events', async () => {
    const { turn_id } = await startAsync();
    // Leave mid-turn: during the second iteration's draft.
    const early = parseEvents(await readUntil(turn_id, (text) => /"iteration":1,"text"/.test(text)));
    expect(ids(early)).toEqual(early.map((_, i) => i + 1));
    const lastSeen = early.at(-1)!.id!;
    const rest = parseEvents(await readUntil(turn_id, (text) => text.includes('event: turn.completed'), lastSeen));
    expect(rest[0]!.id).toBe(lastSeen + 1);
    expect(rest.at(-1)!.event).toBe('turn.completed');
    const joined = [...early, ...rest];
    expect(ids(joined)).toEqual(joined.map((_, i) => i + 1));

    // After completion: the whole turn from the start, and the tail from any id, from storage.
    const whole = parseEvents(await readUntil(turn_id, () => false));
    expect(whole).toEqual(joined);
    const tail = parseEvents(await readUntil(turn_id, () => false, 5));
    expect(tail).toEqual(joined.slice(5));
    expect(parseEvents(await readUntil(turn_id, () => false, joined.length))).toEqual([]);
    expect((await status(turn_id)).last_event_id).toBe(joined.length);
  });

  it('the POST stream carries consecutive ids, and a quiet stream gets : ping comments', async () => {
    const response = await fetch(`${baseUrl}/v1/conversations/${conversationId}/messages`, { method: 'POST', headers: { ...headers(), accept: 'text/event-stream' }, body: JSON.stringify({ content: 'a quiet one' }) });
    const text = await response.text();
    const events = parseEvents(text);
    expect(events[0]).toMatchObject({ event: 'turn.started', id: 1 });
    expect(ids(events)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.event).toBe('turn.completed');
    // Each model call is silent for 500 ms; pings come after 150 ms of silence.
    expect(text).toMatch(/^: ping$/m);
    expect(text.indexOf(': ping')).toBeGreaterThan(text.indexOf('event: turn.started'));
  });

  it('a client that disconnects a stream without respond-async still cancels the turn', async () => {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/v1/conversations/${conversationId}/messages`, { method: 'POST', headers: { ...headers(), accept: 'text/event-stream' }, body: JSON.stringify({ content: 'tell me' }), signal: controller.signal });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('event: iteration.delta')) seen += new TextDecoder().decode((await reader.read()).value);
    const turnId = /"turn_id":"([0-9a-f-]+)"/.exec(seen)![1]!;
    controller.abort();
    for (let i = 0; i < 100 && (await status(turnId)).status === 'running'; i++) await new Promise((r) => setTimeout(r, 50));
    const closed = (await (await fetch(`${baseUrl}/v1/turns/${turnId}`, { headers: headers() })).json()) as { status: string; exit_reason: string };
    expect(closed).toMatchObject({ status: 'interrupted', exit_reason: 'cancelled' });
  });
});
