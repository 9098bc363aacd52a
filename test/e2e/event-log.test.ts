import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/app/events.js';
import { pruneOutbox } from '../../src/app/upkeep.js';
import { drivers } from '../support/databases.js';
import { startTestSoma, type TestSoma } from '../support/soma.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(drivers())('the event log /v1/events (%s)', (driver) => {
  let t: TestSoma;
  let key: string;
  let tenantId: string;
  beforeAll(async () => {
    t = await startTestSoma({ driver, script: { turns: [{ iterations: [{ text: 'x' }] }] } });
    ({ id: tenantId, api_key: key } = await t.tenant());
  });
  afterAll(async () => t?.close());

  it('20 concurrent writers committing late and a reader following ?after= see every event exactly once, in commit order', async () => {
    const { store, ids, clock } = t.soma.ctx;
    const written: string[] = [];
    let writing = true;
    // Each writer's transactions take their outbox row early and commit after a random wait, so rows
    // inserted later often commit first — what a cursor on insert order skips.
    const writers = Array.from({ length: 20 }, async (_, w) => {
      const turnId = randomUUID();
      for (let k = 0; k < 10; k++) {
        await store.transaction(async (tx) => {
          const event = await recordEvent(tx, { ids, clock }, { eventType: 'chat.iteration_completed', tenantId, turnId, iteration: k, payload: { writer: w, k } });
          await sleep(Math.floor(Math.random() * 40));
          written.push(event.event_id);
        });
      }
    });
    const seen: string[] = [];
    const seqs: number[] = [];
    const reader = (async () => {
      let after = 0;
      for (;;) {
        const done = !writing;
        const page = (await (await t.request('GET', `/v1/events?after=${after}&limit=7`, { key })).json()) as { events: { seq: number; event_id: string }[]; next_after: number };
        for (const event of page.events) {
          seen.push(event.event_id);
          seqs.push(event.seq);
        }
        after = page.next_after;
        if (done && page.events.length === 0) return;
        if (page.events.length === 0) await sleep(5);
      }
    })();
    await Promise.all(writers);
    writing = false;
    await reader;
    expect(written).toHaveLength(200);
    expect(seen).toHaveLength(200);
    expect(new Set(seen)).toEqual(new Set(written));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(200);
  }, 60_000);

  it('keeps published rows for the retention period (every row when nothing relays), then deletes them in batches', async () => {
    const { store, ids, clock } = t.soma.ctx;
    const turnId = randomUUID();
    await store.transaction(async (tx) => {
      for (let k = 0; k < 5; k++) await recordEvent(tx, { ids, clock }, { eventType: 'chat.iteration_completed', tenantId, turnId, iteration: k, payload: {} });
    });
    // Two of them published 8 days ago, one pending as old, two recent.
    const rows = await t.database.query<{ id: string }>(sql`select id from outbox_messages where turn_id = ${turnId} order by seq`);
    const old = rows.slice(0, 3).map((r) => r.id);
    await t.database.query(sql`update outbox_messages set created_at = now() - interval '8 days' where id in (${sql.join(old.map((id) => sql`${id}::uuid`), sql`, `)})`);
    await t.database.query(sql`update outbox_messages set status = 'published', published_at = now() - interval '8 days' where id in (${sql.join(old.slice(0, 2).map((id) => sql`${id}::uuid`), sql`, `)})`);
    const left = async () => (await t.database.query<{ id: string }>(sql`select id from outbox_messages where turn_id = ${turnId} order by seq`)).map((r) => r.id);

    expect(await pruneOutbox(t.soma.ctx, { retentionDays: 7, relayed: true })).toBe(2);
    expect(await left()).toEqual(rows.slice(2).map((r) => r.id));
    expect(await pruneOutbox(t.soma.ctx, { retentionDays: 7, relayed: false })).toBe(1);
    expect(await left()).toEqual(rows.slice(3).map((r) => r.id));
    expect(await pruneOutbox(t.soma.ctx, { retentionDays: 7, relayed: false })).toBe(0);
  });

  it('reports outbox_pending without a relay', async () => {
    const pending = Number((await t.database.query<{ n: number }>(sql`select count(*)::int as n from outbox_messages where status = 'pending'`))[0]!.n);
    expect(pending).toBeGreaterThan(0);
    let reported = -1;
    for (let i = 0; i < 80 && reported !== pending; i++) {
      const text = await (await t.request('GET', '/metrics')).text();
      reported = Number(/^outbox_pending (\d+)$/m.exec(text)?.[1] ?? -1);
      if (reported !== pending) await sleep(100);
    }
    expect(reported).toBe(pending);
  });
});
