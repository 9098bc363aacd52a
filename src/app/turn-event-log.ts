import type { StreamEventBatch } from '../ports/store.js';

/** One SSE event of a turn with its id (per turn, from 1: SPEC §13.4). */
export interface LoggedEvent {
  id: number;
  event: string;
  data: unknown;
}

/** How a run of a turn ended in this process: the turn paused for approval, or it closed. */
export type RunEnd = 'paused' | 'closed';

/**
 * The SSE events of one run of a turn in the process that runs it. Events get consecutive ids as they
 * are emitted and are kept until the run ends, so any stream of this process can follow the turn from
 * any id. Every write of the turn (an iteration, a pause, the close) stores, in its own transaction,
 * the events emitted since the previous write ({@link pendingBatch}); events that describe the write
 * itself (`iteration.completed`, `turn.completed`) are *staged* — numbered and stored with it — and
 * only reach the streams once it committed ({@link release}).
 */
export class TurnEventLog {
  readonly baseId: number;
  private readonly events: LoggedEvent[] = [];
  private staged: LoggedEvent[] = [];
  /** Emitted while the staged events' write is in flight ({@link hold}): numbered after them, out with them. */
  private held: LoggedEvent[] | undefined;
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

  /** Emits an event to every stream now (it is stored with the turn's next write). */
  emit(event: string, data: unknown): LoggedEvent {
    if (this.held) {
      const logged = { id: this.nextId++, event, data };
      this.held.push(logged);
      return logged;
    }
    this.unstage();
    const logged = { id: this.nextId++, event, data };
    this.events.push(logged);
    this.onEvent?.(logged);
    this.notify();
    return logged;
  }

  /** Numbers events that belong to the write about to happen; they reach streams on {@link release}. */
  stage(events: [string, unknown][]): void {
    // The write tried again while later events are held behind it: the same ids, the new contents.
    if (this.held && this.held.length > 0 && this.staged.length > 0) {
      if (events.length !== this.staged.length) throw new Error('a write retried while events are held behind it must stage as many events');
      this.staged = this.staged.map((e, i) => ({ id: e.id, event: events[i]![0], data: events[i]![1] }));
      return;
    }
    this.unstage();
    for (const [event, data] of events) this.staged.push({ id: this.nextId++, event, data });
  }

  /**
   * Numbers more events for the same write after those already staged, and gives them as a batch of
   * their own (stored apart from the rest, e.g. `turn.completed` with the turn row).
   */
  stageAlso(events: [string, unknown][]): StreamEventBatch | undefined {
    const added = events.map(([event, data]) => ({ id: this.nextId++, event, data }));
    this.staged.push(...added);
    if (added.length === 0) return undefined;
    return { first: added[0]!.id, last: added[added.length - 1]!.id, events: added.map((e) => [e.event, e.data]) };
  }

  /** Forgets the staged events of `batch` ({@link stageAlso}'s, the last staged) when that part of the write did not happen. */
  unstageBatch(batch: StreamEventBatch): void {
    const count = batch.last - batch.first + 1;
    this.staged.splice(this.staged.length - count, count);
    this.nextId -= count;
  }

  /** Forgets staged events of a write that did not commit (their ids are given again). */
  unstage(): void {
    this.nextId -= this.staged.length;
    this.staged = [];
  }

  /** Every event since the last stored write, staged ones included: what the next write stores. */
  pendingBatch(): StreamEventBatch | undefined {
    const pending = [...this.events.slice(this.storedThrough + 1 - this.baseId), ...this.staged];
    if (pending.length === 0) return undefined;
    return { first: pending[0]!.id, last: pending[pending.length - 1]!.id, events: pending.map((e) => [e.event, e.data]) };
  }

  /**
   * The staged events' write is in flight while the run goes on (a turn's start): events emitted
   * meanwhile are numbered after the staged ones and held back, to reach the streams right after them
   * on {@link release} (and to be stored with the next write) — or never, when the run ends first.
   */
  hold(): void {
    this.held ??= [];
  }

  /** The write the held events waited for failed: they are dropped (their ids given again), as if never emitted. */
  dropHeld(): void {
    if (this.held) this.nextId -= this.held.length;
    this.held = undefined;
  }

  /** The write holding the pending batch committed: its staged events reach the streams (then those held meanwhile). */
  release(): void {
    const staged = this.staged;
    const held = this.held ?? [];
    this.staged = [];
    this.held = undefined;
    this.events.push(...staged);
    this.storedThrough = this.nextId - 1 - held.length;
    this.events.push(...held);
    for (const event of staged) this.onEvent?.(event);
    for (const event of held) this.onEvent?.(event);
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
    this.unstage();
    if (this.held) this.nextId -= this.held.length;
    this.held = undefined;
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

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
