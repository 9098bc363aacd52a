import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drivers, freshDatabase } from '../support/databases.js';
import { ADMIN_TOKEN, spawnServer } from '../support/soma.js';

describe.each(drivers())('SIGKILL in the middle of a turn (%s)', (driver) => {
  it('loses no committed message, iteration or event, and the turn ends interrupted after restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-kill-'));
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations: [{ text: 'A committed first draft.', logprobs: [-0.5] }, { text: 'a second draft that streams slowly and never finishes because the server dies', tokens_per_s: 4 }] }] }));
    const db = driver === 'postgres' ? await freshDatabase('postgres') : undefined;
    if (db) await db.database.close();
    const env = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_TURN_DEADLINE_MS: '4000', ...(db?.url ? { DATABASE_URL: db.url } : {}) };
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
      while (!/event: iteration\.delta\ndata: \{"iteration":1/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended early');
        seen += new TextDecoder().decode(value);
      }
      const turnId = /"turn_id":"([0-9a-f-]+)"/.exec(seen)![1]!;
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      await reader.cancel().catch(() => undefined);

      // On PostgreSQL other servers could still be running a turn, so it is declared dead only after its deadline + grace.
      if (driver === 'postgres') await new Promise((r) => setTimeout(r, 14_500));
      server = await spawnServer(env);
      let trace: { status: string; exit_reason: string; iterations: { iteration_number: number; content: string }[]; messages: { role: string }[] } | undefined;
      for (let i = 0; i < 100; i++) {
        trace = (await (await fetch(`${server.url}/v1/trace/${turnId}?include_messages=true`, { headers })).json()) as typeof trace;
        if (trace?.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(trace?.status).toBe('interrupted');
      expect(trace?.iterations.map((it) => it.content)).toEqual(['A committed first draft.']);
      expect(trace?.messages.map((m) => m.role)).toEqual(['user']);
      const events = (await (await fetch(`${server.url}/v1/events?after=0&limit=100`, { headers })).json()) as { events: { event_type: string; turn_id?: string }[] };
      expect(events.events.filter((e) => e.turn_id === turnId).map((e) => e.event_type)).toEqual(['chat.turn_started', 'chat.iteration_completed']);

      // The server still works after the crash.
      const next = await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: 'again' }) });
      expect(next.status).toBe(200);
    } finally {
      await server.stop();
      await db?.drop().catch(() => undefined);
    }
  }, 90_000);
});
