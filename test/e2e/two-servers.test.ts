import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/databases.js';
import { skipWithout } from '../support/services.js';
import { ADMIN_TOKEN, parseEvents, spawnServer } from '../support/soma.js';

describe.skipIf(skipWithout('databaseUrl'))('two servers on one PostgreSQL', () => {
  it('a turn paused on one server resumes on the other when the approval is sent there, and both stream it to the end', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-two-'));
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(
      scriptFile,
      JSON.stringify({ turns: [{ iterations: [{ text: 'Computing.', tool_calls: [{ name: 'calculator', args: { expression: '6*7' } }], logprobs: [-0.3] }, { text: 'It is 42.', logprobs: [-0.01], final: true }] }] }),
    );
    const db = await freshDatabase('postgres');
    await db.database.close();
    const env = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, DATABASE_URL: db.url! };
    const a = await spawnServer(env);
    const b = await spawnServer(env);
    try {
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const tenant = (await (await fetch(`${a.url}/v1/admin/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'two' }) })).json()) as { api_key: string };
      const headers = { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' };
      const capsule = (await (await fetch(`${a.url}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'c', system_prompt: 's', tools: [{ name: 'calculator', requires_approval: true }] }) })).json()) as { id: string };
      const conversation = (await (await fetch(`${a.url}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };
      const first = parseEvents(await (await fetch(`${a.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers: { ...headers, accept: 'text/event-stream' }, body: JSON.stringify({ content: 'What is 6*7?' }) })).text());
      const turnId = String(first[0]!.data.turn_id);
      const call = first.find((e) => e.event === 'tool.approval_required')!.data as { call_id: string };
      const lastSeen = first.at(-1)!.id!;

      // A follows the paused turn (from storage: nothing of it runs on A any more).
      const following = fetch(`${a.url}/v1/turns/${turnId}/events`, { headers: { ...headers, 'last-event-id': String(lastSeen) } }).then((r) => r.text());
      const pending = (await (await fetch(`${b.url}/v1/approvals?status=pending`, { headers })).json()) as { approvals: { turn_id: string }[] };
      expect(pending.approvals.map((p) => p.turn_id)).toEqual([turnId]);
      const decided = await fetch(`${b.url}/v1/turns/${turnId}/approvals`, { method: 'POST', headers, body: JSON.stringify({ call_id: call.call_id, approved: true }) });
      expect(decided.status).toBe(202);
      const onB = parseEvents(await (await fetch(`${b.url}/v1/turns/${turnId}/events`, { headers: { ...headers, 'last-event-id': String(lastSeen) } })).text());
      expect(onB.at(-1)).toMatchObject({ event: 'turn.completed', data: { content: 'It is 42.', exit_reason: 'llm_completed', tools_used: ['calculator'] } });
      expect(onB.find((e) => e.event === 'tool.result')!.data).toMatchObject({ ok: true, result: { result: 42 } });
      const onA = parseEvents(await following);
      expect(onA).toEqual(onB);
      expect([...first, ...onB].map((e) => e.id)).toEqual([...first, ...onB].map((_, i) => i + 1));
      const status = (await (await fetch(`${a.url}/v1/turns/${turnId}`, { headers })).json()) as { status: string; answer: { content: string } };
      expect(status).toMatchObject({ status: 'completed', answer: { content: 'It is 42.' } });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await db.drop().catch(() => undefined);
    }
  }, 90_000);
});
