import type { StreamEventBatch } from '../ports/store.js';

/** One SSE event of a turn with its id (per turn, from 1: SPEC §13.4). */
export interface LoggedEvent {
  id: number;
  event: string;
  data: unknown;
}

/** How a run of a turn ended in this process: the turn paused for approval, or it closed. */
export type RunEnd = 'paused' | 'closed';

/** A write of the turn whose events are numbered but not yet streamed (staged), in the order of their ids. */
interface StagedWrite {
  /** Which write (an iteration's number); undefined for the turn's start and close. */
  key: number | undefined;
  events: LoggedEvent[];
}

/**
 * The SSE events of one run of a turn in the process that runs it. Events get consecutive ids as they
 * are emitted and are kept until the run ends, so any stream of this process can follow the turn from
 * any id. Every write of the turn (an iteration, a pause, the close) stores, in its own transaction,
 * the events emitted since the previous write ({@link pendingBatch}); events that describe the write
 * itself (`iteration.completed`, `turn.completed`) are *staged* — numbered and stored with it — and
 * only reach the streams once it committed ({@link release}).
 *
 * While a write is in flight and the run goes on ({@link hold}), what is emitted is numbered after it
 * and held; a later write can be staged behind those held events ({@link stage} with a new key) or have
 * its ids kept for it in advance ({@link reserve}: an iteration whose write waits to go with the next
 * one's, whose `iteration.completed` must come before the next iteration's events). Each release lets
 * out the oldest write's events and what was held up to the next staged write.
 */
export class TurnEventLog {
  readonly baseId: number;
  private readonly events: LoggedEvent[] = [];
  /** Events numbered but not streamed yet, in id order: staged writes' and those held behind them. */
  private queue: LoggedEvent[] = [];
  /** The staged writes not released yet, oldest first. */
  private writes: StagedWrite[] = [];
  /** The write the last {@link stage} was for ({@link pendingBatch}, {@link stageAlso}). */
  private current: StagedWrite | undefined;
  private holding = false;
  private nextId: number;
  private storedThrough: number;
  private waiters: (() => void)[] = [];
  private endedAs: RunEnd | undefined;

  /** `firstId`: the id of the run's first event (1 for a new turn, after the stored ones for a resumed one). */
  constructor(firstId: number, private readonly onEvent?: (event: LoggedEvent) => void) {
    this.baseId = firstId;
    this.nextId = firstId;
    this.storedThrough = firstId - 1;
  }

  /** Emits an event to every stream now (it is stored with the turn's next write) — or, while held, after the writes before it. */
  emit(event: string, data: unknown): LoggedEvent {
    if (this.holding) {
      const logged = { id: this.nextId++, event, data };
      this.queue.push(logged);
      return logged;
    }
    this.dropHeld();
    const logged = { id: this.nextId++, event, data };
    this.events.push(logged);
    this.onEvent?.(logged);
    this.notify();
    return logged;
  }

  /**
   * Numbers events that belong to the write about to happen; they reach streams on {@link release}.
   * The write `key` staged again (tried again, or filling its {@link reserve}d ids) keeps its ids with
   * the new contents. A new write while held goes behind what is held; otherwise a staged write that
   * never committed is forgotten first (its ids given again).
   */
  stage(events: [string, unknown][], key?: number): void {
    // An iteration's write is known by its key; a keyless one (start, close) only as the last staged while held.
    const same = key !== undefined ? this.writes.find((w) => w.key === key) : this.holding && this.writes.at(-1)?.key === undefined ? this.writes.at(-1) : undefined;
    if (same) {
      this.current = same;
      if (events.length === same.events.length) {
        same.events.forEach((e, i) => {
          e.event = events[i]![0];
          e.data = events[i]![1];
        });
        return;
      }
      if (same !== this.writes.at(-1) || this.queue.at(-1) !== same.events.at(-1)) throw new Error('a write retried while events are held behind it must stage as many events');
      this.dropLast(same.events.length);
      this.writes.pop();
    } else if (!this.holding) this.dropHeld();
    const write: StagedWrite = { key, events: events.map(([event, data]) => ({ id: this.nextId++, event, data })) };
    this.queue.push(...write.events);
    this.writes.push(write);
    this.current = write;
  }

  /**
   * Keeps `count` ids for the write `key` that will be staged later (an iteration's write that waits
   * to go with the next one's): what is emitted from now on is numbered after them and held.
   */
  reserve(key: number, count: number): void {
    this.holding = true;
    const write: StagedWrite = { key, events: Array.from({ length: count }, () => ({ id: this.nextId++, event: 'reserved', data: null })) };
    this.queue.push(...write.events);
    this.writes.push(write);
  }

  /**
   * Numbers more events for the same write after those already staged, and gives them as a batch of
   * their own (stored apart from the rest, e.g. `turn.completed` with the turn row).
   */
  stageAlso(events: [string, unknown][]): StreamEventBatch | undefined {
    const write = this.current;
    if (!write || write !== this.writes.at(-1) || this.queue.at(-1) !== write.events.at(-1)) throw new Error('only the last staged write can stage more events');
    const added = events.map(([event, data]) => ({ id: this.nextId++, event, data }));
    write.events.push(...added);
    this.queue.push(...added);
    if (added.length === 0) return undefined;
    return { first: added[0]!.id, last: added[added.length - 1]!.id, events: added.map((e) => [e.event, e.data]) };
  }

  /** Forgets the staged events of `batch` ({@link stageAlso}'s, the last staged) when that part of the write did not happen. */
  unstageBatch(batch: StreamEventBatch): void {
    const write = this.current;
    const count = batch.last - batch.first + 1;
    if (!write || this.queue.at(-1) !== write.events.at(-1)) throw new Error('only the last staged events can be unstaged');
    write.events.splice(write.events.length - count, count);
    this.dropLast(count);
  }

  /** Forgets the last staged write when it did not commit and nothing is held behind it (its ids are given again). */
  unstage(): void {
    const last = this.writes.at(-1);
    if (!last || this.queue.at(-1) !== last.events.at(-1)) return;
    this.dropLast(last.events.length);
    this.writes.pop();
    if (this.current === last) this.current = undefined;
    if (this.writes.length === 0 && this.queue.length === 0) this.holding = false;
  }

  /** What the write last staged stores: every event since the write before it (or the last stored one), its staged ones included. */
  pendingBatch(): StreamEventBatch | undefined {
    const write = this.current;
    const index = write ? this.writes.indexOf(write) : -1;
    const last = write && index >= 0 ? write.events.at(-1)?.id ?? this.lastStaged(index) : this.nextId - 1 - this.queue.length;
    const first = index > 0 ? this.lastStaged(index) + 1 : this.storedThrough + 1;
    const pending: LoggedEvent[] = [];
    for (const e of this.events.slice(Math.max(0, first - this.baseId))) if (e.id <= last) pending.push(e);
    for (const e of this.queue) if (e.id >= first && e.id <= last) pending.push(e);
    if (pending.length === 0) return undefined;
    return { first: pending[0]!.id, last: pending[pending.length - 1]!.id, events: pending.map((e) => [e.event, e.data]) };
  }

  /**
   * The staged events' write is in flight while the run goes on (a turn's start): events emitted
   * meanwhile are numbered after the staged ones and held back, to reach the streams right after them
   * on {@link release} (and to be stored with the next write) — or never, when the run ends first.
   */
  hold(): void {
    this.holding = true;
  }

  /** The write the held events waited for failed: it, the writes behind it and what was held are dropped (their ids given again), as if never emitted. */
  dropHeld(): void {
    this.nextId -= this.queue.length;
    this.queue = [];
    this.writes = [];
    this.current = undefined;
    this.holding = false;
  }

  /**
   * The oldest staged write committed: its events reach the streams, then those held behind it up to
   * the next staged write (all of them when none is left, which ends the holding).
   */
  release(): void {
    const write = this.writes.shift();
    if (write) {
      if (write.events.length > 0) this.storedThrough = write.events.at(-1)!.id;
      if (this.current === write) this.current = undefined;
    }
    const next = this.writes[0]?.events[0]?.id ?? Infinity;
    let out = 0;
    while (out < this.queue.length && this.queue[out]!.id < next) out++;
    const released = this.queue.splice(0, out);
    if (this.writes.length === 0) this.holding = false;
    this.events.push(...released);
    for (const event of released) this.onEvent?.(event);
    this.notify();
  }

  /** Events of this run with an id above `after`. */
  since(after: number): LoggedEvent[] {
    return this.events.slice(Math.max(0, after + 1 - this.baseId));
  }

  /** The id of the last event emitted (or released). */
  get lastId(): number {
    return this.baseId + this.events.length - 1;
  }

  /** Marks the end of this run in the process; streams then follow the turn from storage. */
  end(how: RunEnd): void {
    this.dropHeld();
    this.endedAs = how;
    this.notify();
  }

  get ended(): RunEnd | undefined {
    return this.endedAs;
  }

  /**
   * Resolves at the next event or at the end of the run (or when `signal` aborts) — at once when an
   * event above `after` is already there (one emitted while the caller was busy with the last ones).
   */
  changed(signal?: AbortSignal, after?: number): Promise<void> {
    if (this.endedAs || signal?.aborted || (after !== undefined && this.lastId > after)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** The last staged id of the write before `index` (or the last stored one). */
  private lastStaged(index: number): number {
    for (let i = index - 1; i >= 0; i--) {
      const id = this.writes[i]!.events.at(-1)?.id;
      if (id !== undefined) return id;
    }
    return this.storedThrough;
  }

  /** Takes back the last `count` numbered events (they were the last ids given). */
  private dropLast(count: number): void {
    this.queue.splice(this.queue.length - count, count);
    this.nextId -= count;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
