import { describe, expect, it } from 'vitest';
import { TurnEventLog } from './turn-event-log.js';

describe('TurnEventLog', () => {
  it('numbers events from the first id and stores each write’s events once, staged ones included', () => {
    const seen: number[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(e.id));
    log.stage([['turn.started', {}]]);
    expect(log.pendingBatch()).toEqual({ first: 1, last: 1, events: [['turn.started', {}]] });
    expect(seen).toEqual([]); // staged: not streamed before its write commits
    log.release();
    expect(seen).toEqual([1]);
    expect(log.pendingBatch()).toBeUndefined();
    log.emit('iteration.started', { iteration: 0 });
    log.emit('iteration.delta', { text: 'a' });
    log.stage([['iteration.completed', { iteration: 0 }]]);
    expect(log.pendingBatch()).toMatchObject({ first: 2, last: 4 });
    // A write that failed: its staged events are given their ids again by the next attempt.
    log.unstage();
    log.stage([['iteration.completed', { iteration: 0, again: true }]]);
    expect(log.pendingBatch()).toMatchObject({ first: 2, last: 4, events: [['iteration.started', { iteration: 0 }], ['iteration.delta', { text: 'a' }], ['iteration.completed', { iteration: 0, again: true }]] });
    log.release();
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(log.since(2).map((e) => e.id)).toEqual([3, 4]);
    expect(log.lastId).toBe(4);
  });

  it('a resumed run goes on from the stored ids, and emitting drops a staged write that never committed', () => {
    const log = new TurnEventLog(10);
    log.stage([['x', 1]]);
    log.emit('error', {});
    expect(log.pendingBatch()).toEqual({ first: 10, last: 10, events: [['error', {}]] });
    expect(log.since(0).map((e) => e.id)).toEqual([10]);
  });

  it('holds what is emitted while the start is written: numbered after it, streamed right after it, stored with the next write', () => {
    const seen: string[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(`${e.id} ${e.event}`));
    log.stage([['turn.started', {}]]);
    const start = log.pendingBatch();
    log.hold();
    log.emit('iteration.started', { iteration: 0 });
    log.emit('iteration.delta', { text: 'a' });
    expect(seen).toEqual([]);
    expect(log.since(0)).toEqual([]);
    expect(start).toEqual({ first: 1, last: 1, events: [['turn.started', {}]] });
    log.release();
    expect(seen).toEqual(['1 turn.started', '2 iteration.started', '3 iteration.delta']);
    log.stage([['iteration.completed', { iteration: 0 }]]);
    expect(log.pendingBatch()).toMatchObject({ first: 2, last: 4 });
    log.release();
    expect(log.lastId).toBe(4);
  });

  it('a run that ends while its start is held streams nothing of it', () => {
    const seen: number[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(e.id));
    log.stage([['turn.started', {}]]);
    log.hold();
    log.emit('iteration.started', { iteration: 0 });
    log.end('closed');
    expect(seen).toEqual([]);
    expect(log.since(0)).toEqual([]);
    expect(log.ended).toBe('closed');
  });

  it('wakes followers on each event and at the end of the run', async () => {
    const log = new TurnEventLog(1);
    const woke = log.changed();
    log.emit('a', {});
    await woke;
    const ended = log.changed();
    log.end('paused');
    await ended;
    expect(log.ended).toBe('paused');
    await log.changed(); // resolves at once once ended
  });

  it('holds the next iteration behind a write in flight: streamed after that write, stored with the next, a retried write keeping its ids', () => {
    const seen: string[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(`${e.id} ${e.event}`));
    log.emit('iteration.started', { iteration: 0 });
    log.stage([['iteration.completed', { iteration: 0, try: 1 }]]);
    expect(log.pendingBatch()).toMatchObject({ first: 1, last: 2 });
    log.hold();
    log.emit('iteration.started', { iteration: 1 });
    log.emit('iteration.delta', { text: 'b' });
    // The write is tried again (its statement fell back): the same id, what the retry stages.
    log.stage([['iteration.completed', { iteration: 0, try: 2 }]]);
    expect(log.pendingBatch()).toEqual({ first: 1, last: 2, events: [['iteration.started', { iteration: 0 }], ['iteration.completed', { iteration: 0, try: 2 }]] });
    expect(seen).toEqual(['1 iteration.started']);
    log.release();
    expect(seen).toEqual(['1 iteration.started', '2 iteration.completed', '3 iteration.started', '4 iteration.delta']);
    log.stage([['iteration.completed', { iteration: 1 }]]);
    expect(log.pendingBatch()).toMatchObject({ first: 3, last: 5 });
  });

  it('drops what was held behind a write that failed: the ids are given again, nothing of it streamed', () => {
    const seen: number[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(e.id));
    log.stage([['iteration.completed', { iteration: 0 }]]);
    log.hold();
    log.emit('iteration.started', { iteration: 1 });
    log.dropHeld();
    log.emit('error', { code: 'DATABASE_UNAVAILABLE' });
    expect(seen).toEqual([1]);
    expect(log.since(0).map((e) => e.event)).toEqual(['error']);
  });

  it('a follower busy with the last events does not miss one emitted meanwhile: changed() resolves at once', async () => {
    const log = new TurnEventLog(1);
    log.emit('iteration.started', { iteration: 0 });
    const seenThrough = log.lastId;
    log.emit('tool.call', {});
    let resolved = false;
    await Promise.race([log.changed(undefined, seenThrough).then(() => (resolved = true)), new Promise((r) => setTimeout(r, 50))]);
    expect(resolved).toBe(true);
    expect(log.since(seenThrough).map((e) => e.event)).toEqual(['tool.call']);
  });
  it("keeps a deferred iteration's completion in its place: the next iteration's events come after it, each write storing its own part", () => {
    const seen: string[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(`${e.id} ${e.event}`));
    log.emit('iteration.started', { iteration: 0 });
    log.reserve(0, 1); // iteration 0 goes on; its write waits for iteration 1's
    log.emit('iteration.started', { iteration: 1 });
    log.emit('iteration.delta', { text: 'b' });
    expect(seen).toEqual(['1 iteration.started']);
    // Both written in one statement: iteration 0's write fills its kept id, iteration 1's goes behind.
    log.stage([['iteration.completed', { iteration: 0 }]], 0);
    expect(log.pendingBatch()).toEqual({ first: 1, last: 2, events: [['iteration.started', { iteration: 0 }], ['iteration.completed', { iteration: 0 }]] });
    log.stage([['iteration.completed', { iteration: 1 }]], 1);
    const close = log.stageAlso([['turn.completed', {}]]);
    expect(close).toEqual({ first: 6, last: 6, events: [['turn.completed', {}]] });
    expect(log.pendingBatch()).toMatchObject({ first: 3, last: 6 });
    // The statement falls back, and the writes are staged again: the same ids, the new contents.
    log.stage([['iteration.completed', { iteration: 0, again: true }]], 0);
    expect(log.pendingBatch()).toMatchObject({ first: 1, last: 2 });
    log.stage([['iteration.completed', { iteration: 1, again: true }]], 1);
    log.stageAlso([['turn.completed', {}]]);
    expect(log.pendingBatch()).toMatchObject({ first: 3, last: 6 });
    expect(seen).toEqual(['1 iteration.started']);
    // Committed: each completion released in order, what was held between them with the first.
    log.release();
    expect(seen).toEqual(['1 iteration.started', '2 iteration.completed', '3 iteration.started', '4 iteration.delta']);
    log.release();
    expect(seen.slice(4)).toEqual(['5 iteration.completed', '6 turn.completed']);
    expect(log.since(1).map((e) => e.id)).toEqual([2, 3, 4, 5, 6]);
    log.emit('x', {});
    expect(seen.at(-1)).toBe('7 x'); // nothing held any more
  });

  it('drops kept ids and what was held behind them when the writes failed', () => {
    const seen: number[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(e.id));
    log.reserve(0, 1);
    log.emit('iteration.started', { iteration: 1 });
    log.stage([['iteration.completed', { iteration: 0 }]], 0);
    log.stage([['iteration.completed', { iteration: 1 }]], 1);
    log.dropHeld();
    log.emit('error', {});
    expect(seen).toEqual([1]);
    expect(log.since(0).map((e) => e.event)).toEqual(['error']);
  });

  it('releases the start, then what was held up to a deferred iteration, then the rest once that is written', () => {
    const seen: string[] = [];
    const log = new TurnEventLog(1, (e) => seen.push(`${e.id} ${e.event}`));
    log.stage([['turn.started', {}]]);
    log.hold();
    log.emit('iteration.started', { iteration: 0 });
    log.reserve(0, 1);
    log.emit('iteration.started', { iteration: 1 });
    log.release(); // the start committed
    expect(seen).toEqual(['1 turn.started', '2 iteration.started']);
    log.stage([['iteration.completed', { iteration: 0 }]], 0);
    expect(log.pendingBatch()).toMatchObject({ first: 2, last: 3 });
    log.release();
    expect(seen.slice(2)).toEqual(['3 iteration.completed', '4 iteration.started']);
  });
});
