import { randomUUID } from 'node:crypto';
import { asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers, freshDatabase } from '../../../test/support/databases.js';
import { insertTenantWithCapsule } from '../../../test/support/capsules.js';
import { createDrizzleStore } from './drizzle-store.js';
import type { EventEnvelope } from '../../ports/outbox.js';
import type { Database } from './database.js';
import * as tables from './schema.js';
import { StatementBatch, statementOf } from './statement-batch.js';

/**
 * The turn's hot statements are compiled without Drizzle's builder (single-row inserts of a batch) or
 * read several tables at once as JSON (the turn's inputs): what they write and read must be what the
 * ordinary repositories write and read.
 */
describe.each(drivers())('hot statements on %s', (driver) => {
  let database: Database;
  let drop: () => Promise<void>;
  let tenantId: string;
  let capsuleId: string;
  let conversationId: string;
  const owner = 'owner-user';

  beforeAll(async () => {
    ({ database, drop } = await freshDatabase(driver));
    ({ tenantId, capsuleId } = await insertTenantWithCapsule(database, { learningConfig: { memory_scope: 'capsule', alpha: 0.4 } }));
    const store = createDrizzleStore(database);
    await database.db.insert(tables.capabilities).values([
      { id: randomUUID(), capsuleId, name: 'calculator', kind: 'builtin', config: { precision: 4 }, enabled: true, timeoutMs: 1_000 },
      { id: randomUUID(), capsuleId, name: 'http_fetch', kind: 'builtin', config: {}, enabled: false, requiresApproval: true },
    ]);
    conversationId = randomUUID();
    await store.conversations.insert({ id: conversationId, tenantId, capsuleId, userId: owner, title: 'a title', createdAt: new Date('2026-11-30T10:00:00.123Z') });
    await database.db.insert(tables.conversationParticipants).values({ conversationId, userId: 'watcher', role: 'observer' });
    // 25 messages, two of them at the same instant, and a system message the history leaves out.
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 11, minute));
    for (let i = 0; i < 25; i++) {
      await store.messages.insert({ id: randomUUID(), conversationId, turnId: null, role: i % 2 === 0 ? 'user' : 'assistant', content: `message ${i}`, createdAt: at(i === 24 ? 23 : i) });
    }
    await store.messages.insert({ id: randomUUID(), conversationId, turnId: null, role: 'system', content: 'not history', createdAt: at(30) });
  }, 60_000);
  afterAll(() => drop());

  it("reads a turn's inputs in one statement exactly as the separate reads do", async () => {
    const store = createDrizzleStore(database);
    for (const userId of [owner, 'watcher', 'stranger']) {
      const combined = await store.conversations.findForTurn(tenantId, userId, conversationId, 20);
      const separate = await store.conversations.findWithRole(tenantId, userId, conversationId);
      expect(combined?.conversation).toEqual(separate?.conversation);
      expect(combined?.conversation.createdAt).toBeInstanceOf(Date);
      expect(combined?.role ?? null).toEqual(separate?.role ?? null);
      const capsule = await store.capsules.find(tenantId, capsuleId);
      expect(combined?.capsule).toEqual(capsule);
      expect(combined?.capsule?.capabilities).toHaveLength(2);
      const recent = await store.messages.recentHistory(conversationId, 20);
      expect(recent.map((m) => m.content)).toContain('message 24');
      expect(combined?.recent.map((m) => m.content).sort()).toEqual(recent.map((m) => m.content).sort());
      expect(combined?.recent.slice(0, 20 - 2)).toEqual(recent.slice(0, 20 - 2)); // the two at one instant may come in either order
    }
    expect(await store.conversations.findForTurn(randomUUID(), owner, conversationId, 20)).toBeUndefined();
    expect(await store.conversations.findForTurn(tenantId, owner, randomUUID(), 20)).toBeUndefined();
  });

  it('writes a batched insert exactly as Drizzle does: defaults for missing keys, null as null, jsonb and dates mapped', async () => {
    const row = (id: string) => ({
      id,
      tenantId,
      idempotencyKey: `key:${id}`,
      topic: 'chat.events',
      partitionKey: tenantId,
      eventType: 'chat.turn_started' as const,
      headers: { idempotency_key: 'the same key', schema_version: '1' },
      payload: { event_id: id, text: 'it\'s "quoted" – ünïcode', n: 1.5, list: [1, null, { deep: true }] } as unknown as EventEnvelope,
      createdAt: new Date('2026-12-01T12:34:56.789Z'),
    });
    const viaDrizzle = randomUUID();
    await database.db.insert(tables.outboxMessages).values(row(viaDrizzle));
    const viaBatch = randomUUID();
    const batch = new StatementBatch(database.db);
    await batch.repositories.outbox.append(row(viaBatch));
    await database.run(statementOf(batch));
    const read = async (id: string) => {
      const [stored] = await database.db.select().from(tables.outboxMessages).where(eq(tables.outboxMessages.id, id));
      const { id: _id, seq: _seq, idempotencyKey: _key, nextRetryAt, payload, ...rest } = stored!;
      const { event_id: _event, ...data } = payload as Record<string, unknown>;
      return { ...rest, data, nextRetryAtSet: nextRetryAt instanceof Date };
    };
    expect(await read(viaBatch)).toEqual(await read(viaDrizzle));
    expect((await read(viaBatch)).data).toEqual({ text: 'it\'s "quoted" – ünïcode', n: 1.5, list: [1, null, { deep: true }] });
  });

  it("numbers one statement's rows of a table in the order they were written, whatever keys each gives", async () => {
    const batch = new StatementBatch(database.db);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const [i, id] of ids.entries()) {
      await batch.repositories.outbox.append({
        id,
        tenantId,
        idempotencyKey: `order:${id}`,
        topic: 'chat.events',
        partitionKey: tenantId,
        eventType: 'chat.turn_started' as const,
        payload: { event_id: id, i } as unknown as EventEnvelope,
        createdAt: new Date(),
        // Every other row names a column the others leave to its default.
        headers: {},
        ...(i % 2 === 0 ? { turnId: ids[0]! } : {}),
      });
    }
    await database.run(statementOf(batch));
    const stored = await database.db.select().from(tables.outboxMessages).where(inArray(tables.outboxMessages.id, ids)).orderBy(asc(tables.outboxMessages.seq));
    expect(stored.map((row) => row.id)).toEqual(ids);
    expect(stored.map((row) => row.turnId)).toEqual([ids[0], null, ids[0], null, ids[0]]);
  });

  it('sends one text per shape of statement: the same writes with other values reuse it and store their own values; other columns get another', async () => {
    const append = async (batch: StatementBatch, id: string, withTurn: boolean) =>
      batch.repositories.outbox.append({
        id,
        tenantId,
        idempotencyKey: `shape:${id}`,
        topic: 'chat.events',
        partitionKey: tenantId,
        eventType: 'chat.turn_started' as const,
        payload: { event_id: id } as unknown as EventEnvelope,
        createdAt: new Date(),
        headers: { n: id.slice(0, 4) },
        ...(withTurn ? { turnId: id } : {}),
      });
    const statementFor = async (ids: string[], withTurn: boolean[]) => {
      const batch = new StatementBatch(database.db);
      for (const [i, id] of ids.entries()) await append(batch, id, withTurn[i]!);
      await batch.repositories.usage.addTokens(tenantId, new Date('2026-12-03T00:00:00Z'), 1);
      return statementOf(batch);
    };
    const [a, b, c, d] = Array.from({ length: 4 }, () => randomUUID());
    const first = await statementFor([a!, b!], [true, false]);
    const again = await statementFor([c!, d!], [true, false]);
    expect(again.text).toBe(first.text);
    expect(again.values).not.toEqual(first.values);
    const [e, f] = [randomUUID(), randomUUID()];
    const other = await statementFor([e, f], [false, true]);
    expect(other.text).not.toBe(first.text);
    for (const statement of [first, again, other]) await database.run(statement);
    const stored = await database.db.select().from(tables.outboxMessages).where(inArray(tables.outboxMessages.id, [a!, b!, c!, d!, e, f]));
    const byId = new Map(stored.map((row) => [row.id, row]));
    for (const [id, turn] of [[a, a], [b, null], [c, c], [d, null], [e, null], [f, f]] as const) {
      expect(byId.get(id!)?.turnId ?? null).toBe(turn);
      expect(byId.get(id!)?.headers).toEqual({ n: id!.slice(0, 4) });
      expect(byId.get(id!)?.idempotencyKey).toBe(`shape:${id}`);
    }
  });

  it("adds up one statement's changes of one row: two message counts of a conversation, two token counts of a tenant's day", async () => {
    const store = createDrizzleStore(database);
    const [before] = await database.db.select().from(tables.conversations).where(eq(tables.conversations.id, conversationId));
    const day = new Date('2026-12-02T00:00:00Z');
    const batch = new StatementBatch(database.db);
    await batch.repositories.conversations.countMessages(conversationId, 1);
    await batch.repositories.usage.addTokens(tenantId, day, 7);
    await batch.repositories.conversations.countMessages(conversationId, 2);
    await batch.repositories.usage.addTokens(tenantId, day, 5);
    await database.run(statementOf(batch));
    const [after] = await database.db.select().from(tables.conversations).where(eq(tables.conversations.id, conversationId));
    expect(after!.messageCount).toBe(before!.messageCount + 3);
    expect(await store.usage.used(tenantId, 'tokens', day)).toBe(12);
  });

  it('grouped statements: calls made while one runs share the next statement, each written once with its own value', async () => {
    let statements = 0;
    const store = createDrizzleStore({ ...database, run: (statement) => ((statements += 1), database.run(statement)) } as Database);
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const values = await Promise.all(
      ids.map((id, i) => store.oneStatement(async (tx) => (await tx.messages.insert({ id, conversationId, turnId: null, role: 'user', content: `grouped ${i}`, createdAt: new Date() }), i), { group: 'messages' })),
    );
    expect(values).toEqual(ids.map((_, i) => i));
    const written = await database.db.select().from(tables.messages).where(inArray(tables.messages.id, ids));
    expect(written.map((m) => m.content).sort()).toEqual(ids.map((_, i) => `grouped ${i}`).sort());
    expect(statements).toBeLessThan(ids.length);
  });

  it('grouped turn admissions: a group past the limit is written call by call, so exactly the limit is admitted and only those calls write', async () => {
    const store = createDrizzleStore(database);
    const window = new Date(Date.UTC(2026, 10, 30, 12, 1));
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const values = await Promise.all(
      ids.map((id, i) =>
        store.oneStatement(
          async (tx) => {
            await tx.usage.admitTurn(tenantId, window, 6);
            await tx.messages.insert({ id, conversationId, turnId: null, role: 'user', content: `admitted ${i}`, createdAt: new Date() });
            return i;
          },
          { group: 'starts' },
        ),
      ),
    );
    const admitted = values.filter((v) => v !== undefined);
    expect(admitted).toHaveLength(6);
    expect(await store.usage.used(tenantId, 'turns', window)).toBe(6);
    const written = await database.db.select().from(tables.messages).where(inArray(tables.messages.id, ids));
    expect(written.map((m) => m.content).sort()).toEqual(admitted.map((i) => `admitted ${i}`).sort());
  });

  it('a grouped call whose own work fails fails alone; the others are written', async () => {
    const store = createDrizzleStore(database);
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const outcomes = await Promise.allSettled(
      ids.map((id, i) =>
        store.oneStatement(
          async (tx) => {
            if (i === 2) throw new Error('this call cannot be written');
            await tx.messages.insert({ id, conversationId, turnId: null, role: 'user', content: `mixed ${i}`, createdAt: new Date() });
            return i;
          },
          { group: 'mixed' },
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    const written = await database.db.select().from(tables.messages).where(inArray(tables.messages.id, ids));
    expect(written).toHaveLength(5);
  });

  it("a grouped statement one call's constraint breaks is rolled back and written call by call: only that call fails", async () => {
    const store = createDrizzleStore(database);
    const taken = randomUUID();
    await store.messages.insert({ id: taken, conversationId, turnId: null, role: 'user', content: 'already there', createdAt: new Date() });
    const ids = [randomUUID(), randomUUID(), taken, randomUUID()];
    const outcomes = await Promise.allSettled(
      ids.map((id, i) => store.oneStatement(async (tx) => (await tx.messages.insert({ id, conversationId, turnId: null, role: 'user', content: `constraint ${i}`, createdAt: new Date() }), i), { group: 'constraint' })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const written = await database.db.select().from(tables.messages).where(inArray(tables.messages.id, ids));
    expect(written.map((m) => m.content).sort()).toEqual(['already there', 'constraint 0', 'constraint 1', 'constraint 3']);
  });
});

