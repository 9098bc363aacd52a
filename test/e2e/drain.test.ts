import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drivers, freshDatabase } from '../support/databases.js';
import { ADMIN_TOKEN, spawnServer } from '../support/soma.js';

/** Three iterations of about a second each. */
const draft = (n: number, final = false) => ({ text: `Draft ${n} of the answer, streamed word by word.`, logprobs: [n === 2 ? -0.01 : -0.8], tokens_per_s: 9, ...(final ? { final: true } : {}) });

describe.each(drivers())('SIGTERM drains the server (%s)', (driver) => {
  async function scenario(graceMs: number) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'soma-drain-'));
    const scriptFile = path.join(dataDir, 'script.json');
    writeFileSync(scriptFile, JSON.stringify({ turns: [{ iterations: [draft(0), draft(1), draft(2, true)] }] }));
    const db = driver === 'postgres' ? await freshDatabase('postgres') : undefined;
    if (db) await db.database.close();
    const env = { ...process.env, SOMA_DATA_DIR: dataDir, SOMA_MODEL: `scripted:${scriptFile}`, SOMA_ADMIN_TOKEN: ADMIN_TOKEN, SOMA_SHUTDOWN_GRACE_MS: String(graceMs), ...(db?.url ? { DATABASE_URL: db.url } : {}) };
    const server = await spawnServer(env);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const tenant = (await (await fetch(`${server.url}/v1/admin/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'd' }) })).json()) as { api_key: string };
    const headers = { authorization: `Bearer ${tenant.api_key}`, 'content-type': 'application/json' };
    const capsule = (await (await fetch(`${server.url}/v1/capsules`, { method: 'POST', headers, body: JSON.stringify({ name: 'd', system_prompt: 's', rlm_min_iterations: 3 }) })).json()) as { id: string };
    const conversation = (await (await fetch(`${server.url}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ capsule_id: capsule.id }) })).json()) as { id: string };
    const { turn_id: turnId } = (await (await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers: { ...headers, prefer: 'respond-async' }, body: JSON.stringify({ content: 'go' }) })).json()) as { turn_id: string };
    // SIGTERM once the first iteration is stored.
    for (let i = 0; i < 100; i++) {
      const status = (await (await fetch(`${server.url}/v1/turns/${turnId}`, { headers })).json()) as { iterations: number };
      if (status.iterations >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    // Draining: not ready at once, new turns refused with 503 and Retry-After.
    const ready = await fetch(`${server.url}/readyz`).catch(() => undefined);
    const refused = await fetch(`${server.url}/v1/conversations/${conversation.id}/messages`, { method: 'POST', headers, body: JSON.stringify({ content: 'another' }) }).catch(() => undefined);
    expect(await exited).toBe(0);
    const tookMs = Date.now() - started;

    const again = await spawnServer(env);
    try {
      const status = (await (await fetch(`${again.url}/v1/turns/${turnId}`, { headers })).json()) as { status: string; exit_reason: string; iterations: number; answer: { content: string; partial: boolean } | null };
      const events = ((await (await fetch(`${again.url}/v1/events?after=0&limit=100`, { headers })).json()) as { events: { event_type: string; turn_id?: string }[] }).events.filter((e) => e.turn_id === turnId).map((e) => e.event_type);
      return { ready, refused, status, events, tookMs };
    } finally {
      await again.stop();
      await db?.drop().catch(() => undefined);
    }
  }

  it('lets a running turn finish within the grace period', async () => {
    const { ready, refused, status, events, tookMs } = await scenario(20_000);
    expect(ready?.status).toBe(503);
    expect(await ready?.json()).toMatchObject({ status: 'draining' });
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBeTruthy();
    expect(((await refused?.json()) as { error: { code: string } }).error.code).toBe('NOT_READY');
    expect(status).toMatchObject({ status: 'completed', iterations: 3, answer: { content: 'Draft 2 of the answer, streamed word by word.', partial: false } });
    expect(events.at(-1)).toBe('chat.turn_complete');
    expect(tookMs).toBeLessThan(20_000);
  }, 90_000);

  it('closes a turn still running after the grace period with its best committed draft', async () => {
    const { status, events } = await scenario(300);
    expect(status).toMatchObject({ status: 'interrupted', exit_reason: 'interrupted', answer: { partial: true } });
    expect(status.iterations).toBeGreaterThanOrEqual(1);
    expect(status.iterations).toBeLessThan(3);
    expect(status.answer?.content).toMatch(/^Draft [01] of the answer/);
    expect(events.filter((e) => e === 'chat.turn_complete')).toHaveLength(1);
  }, 90_000);
});
