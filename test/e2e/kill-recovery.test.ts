import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drivers, freshDatabase } from '../support/databases.js';
import { ADMIN_TOKEN, parseEvents, spawnServer } from '../support/soma.js';

describe.each(drivers())('SIGKILL in the middle of a turn (%s)', (driver) => {
  it('loses nothing committed; after restart the turn is closed with its best draft, streams error then turn.completed, resumes to completion and replays exactly', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-kill-'));
    const scriptFile = path.join(dataDir, 'script.json');
    const slow = 'a second draft that streams slowly until the server dies';
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations: [{ text: 'A committed first draft.', logprobs: [-0.5] }, { text: slow, tokens_per_s: 5 }, { text: 'The resumed answer, final.', logprobs: [-0.01], final: true }] }] }));
    const db = driver === 'postgres' ? await freshDatabase('postgres') : undefined;
    if (db) await db.database.close();
    const env = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_TURN_DEADLINE_MS: '8000', SOMA_SWEEP_INTERVAL_MS: '500', ...(db?.url ? { DATABASE_URL: db.url } : {}) };
    let server = await spawnServer(env);
    try {
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const tenant = (await (await fetch(`${server.url}/v1/admin/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'k' }) })).json()) as { api_key: string };
      const headers = { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' };
      const capsule = (await (await fetch(`${server.url}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'k', system_prompt: 's' }) })).json()) as { id: string };
      const conversation = (await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };
      const response = await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers: { ...headers, accept: 'text/event-stream' }, body: JSON.stringify({ content: 'go' }) });
      const reader = response.body!.getReader();
      let seen = '';
      while (!/"iteration":1,"text"[^\n]*\nid: \d+\n/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended early');
        seen += new TextDecoder().decode(value);
      }
      const turnId = /"turn_id":"([0-9a-f-]+)"/.exec(seen)![1]!;
      const lastSeen = parseEvents(seen).at(-1)!.id!;
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      await reader.cancel().catch(() => undefined);

      // On PostgreSQL other servers could still be running a turn, so it is declared dead only after its deadline + grace.
      server = await spawnServer(env);
      type Trace = { status: string; exit_reason: string; iterations: { iteration_number: number; content: string; exit_reason: string }[]; messages: { role: string; content: string; metadata: { partial?: boolean } }[] };
      let trace: Trace | undefined;
      for (let i = 0; i < 250; i++) {
        trace = (await (await fetch(`${server.url}/v1/trace/${turnId}?include_messages=true`, { headers })).json()) as Trace;
        if (trace?.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(trace?.status).toBe('interrupted');
      expect(trace?.exit_reason).toBe('interrupted');
      expect(trace?.iterations.map((it) => [it.content, it.exit_reason])).toEqual([['A committed first draft.', 'interrupted']]);
      expect(trace?.messages.map((m) => [m.role, m.content, m.metadata.partial])).toEqual([
        ['user', 'go', undefined],
        ['assistant', 'A committed first draft.', true],
      ]);
      const eventTypes = async () => ((await (await fetch(`${server.url}/v1/events?after=0&limit=100`, { headers })).json()) as { events: { event_type: string; turn_id?: string }[] }).events.filter((e) => e.turn_id === turnId).map((e) => e.event_type);
      expect(await eventTypes()).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete']);
      // The process that closed the turn counts its last iteration with that exit (the dead one never did).
      const iterationCounts = async () => [...(await (await fetch(`${server.url}/metrics`)).text()).matchAll(/^rlm_iterations_total\{exit_reason="([^"]+)"\} (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      expect(await iterationCounts()).toEqual(['interrupted 1']);

      // The client that saw events of the dead process reattaches with the last id it saw: error, then turn.completed.
      const reattached = parseEvents(await (await fetch(`${server.url}/v1/turns/${turnId}/events`, { headers: { ...headers, 'last-event-id': String(lastSeen) } })).text());
      expect(reattached.map((e) => e.event)).toEqual(['error', 'turn.completed']);
      expect(reattached[0]!.id!).toBeGreaterThan(lastSeen);
      expect(reattached[1]!.data).toMatchObject({ content: 'A committed first draft.', exit_reason: 'interrupted' });

      // Resume: it goes on from the committed iteration and completes; its answer replaces the partial one.
      const resumed = await fetch(`${server.url}/v1/turns/${turnId}/resume`, { method: 'POST', headers });
      expect(resumed.status).toBe(202);
      expect(await resumed.json()).toMatchObject({ status: 'running', from_iteration: 1 });
      expect((await fetch(`${server.url}/v1/turns/${turnId}/resume`, { method: 'POST', headers })).status).toBe(409);
      for (let i = 0; i < 200; i++) {
        trace = (await (await fetch(`${server.url}/v1/trace/${turnId}?include_messages=true`, { headers })).json()) as Trace;
        if (trace?.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(trace?.status).toBe('completed');
      expect(trace?.iterations.map((it) => it.exit_reason)).toEqual(['continue', 'continue', 'llm_completed']);
      expect(trace?.iterations[1]!.content).toBe(slow);
      expect(trace?.messages.map((m) => [m.role, m.content, m.metadata.partial])).toEqual([
        ['user', 'go', undefined],
        ['assistant', 'The resumed answer, final.', false],
      ]);
      expect(await eventTypes()).toEqual(['chat.turn_started', 'chat.iteration_completed', 'chat.turn_complete', 'chat.turn_resumed', 'chat.iteration_completed', 'chat.iteration_completed', 'chat.turn_complete']);
      // Each iteration counted once: the interrupted close stays counted, the resumed run counts its own two.
      expect((await iterationCounts()).sort()).toEqual(['continue 1', 'interrupted 1', 'llm_completed 1']);
      const replay = (await (await fetch(`${server.url}/v1/turns/${turnId}/replay`, { method: 'POST', headers, body: '{}' })).json()) as { identical: boolean; differences: unknown[] };
      expect(replay.differences).toEqual([]);
      expect(replay.identical).toBe(true);

      // The server still works after the crash.
      const next = await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: 'again' }) });
      expect(next.status).toBe(200);
    } finally {
      await server.stop();
      await db?.drop().catch(() => undefined);
    }
  }, 120_000);
});
