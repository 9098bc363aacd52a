import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { sql } from 'drizzle-orm';
import { createFairQueue } from './fair-queue.js';
import { runAsOwner } from '../../shared/work-owner.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('fair queue', () => {
  it('serves owners in turn and each owner in arrival order, one job at a time', async () => {
    const queue = createFairQueue();
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const job = (name: string) => async () => {
      running++;
      most = Math.max(most, running);
      await tick();
      order.push(name);
      running--;
    };
    // Tenant a floods the queue first; b and c arrive later with one job each.
    const jobs = [...[1, 2, 3, 4, 5, 6].map((i) => queue.run('a', job(`a${i}`))), queue.run('b', job('b1')), queue.run('b', job('b2')), queue.run('c', job('c1'))];
    await Promise.all(jobs);
    expect(most).toBe(1);
    // a1 started at once (the queue was idle); then owners take turns.
    expect(order).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4', 'a5', 'a6']);
  });

  it('lets an owner whose job arrives by I/O in between the jobs of an owner that chains them without I/O', async () => {
    const queue = createFairQueue();
    const done: string[] = [];
    // Tenant a: a chain of 200 statements, each queued as the previous one resolves (no I/O in between, like PGlite).
    const chain = (async () => {
      for (let i = 0; i < 200; i++) await queue.run('a', async () => void done.push(`a${i}`));
    })();
    // Tenant b's one statement arrives from a socket read (a macrotask) just after a started.
    const b = new Promise<void>((resolve) => setImmediate(() => void queue.run('b', async () => void done.push('b')).then(resolve)));
    await Promise.all([chain, b]);
    expect(done.indexOf('b')).toBeLessThan(5);
  });

  it('runs a job started from inside a job at once (it holds the resource), and passes failures through', async () => {
    const queue = createFairQueue();
    const inner = await queue.run('a', () => queue.run('b', async () => 'nested'));
    expect(inner).toBe('nested');
    await expect(queue.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.run('a', async () => 'after')).toBe('after');
    expect(queue.waiting()).toEqual({});
  });

  it('sits in front of PGlite: concurrent tenants interleave their transactions in turn', async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    try {
      const order: string[] = [];
      const transaction = (tenant: string, i: number) =>
        runAsOwner(tenant, () =>
          database.db.transaction(async (tx) => {
            await tx.execute(sql`select 1`);
            order.push(`${tenant}${i}`);
          }),
        );
      // A flood from tenant a, queued before b's and c's first transaction.
      const flood = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => transaction('a', i));
      await Promise.all([...flood, transaction('b', 0), transaction('b', 1), transaction('c', 0)]);
      // b and c are not served after the whole flood: owners take turns.
      expect(order.slice(0, 6)).toEqual(['a0', 'a1', 'b0', 'c0', 'a2', 'b1']);
      expect(order.filter((name) => name.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
      expect(order.filter((name) => name.startsWith('b'))).toEqual(['b0', 'b1']);
    } finally {
      await database.close();
    }
  });
});
