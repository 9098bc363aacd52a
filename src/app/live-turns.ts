import type { TurnEventLog } from './turn-event-log.js';

/** A run of a turn in this process. */
export interface LiveTurn {
  turnId: string;
  log: TurnEventLog;
  /** Stops the run (client gone, shutdown past its grace): the turn closes with its best draft. */
  stop(reason: Error): void;
  /** Settles when the run ended (paused or closed). */
  done: Promise<unknown>;
}

/**
 * The runs of turns this process is executing, so its streams can follow them live and a shutdown can
 * drain them. A cache of work in progress only: everything a turn needs to go on is in the database.
 */
export class LiveTurns {
  private readonly turns = new Map<string, LiveTurn>();
  private waiters: (() => void)[] = [];
  private drainingFlag = false;
  private stoppedFlag = false;

  /** Registers a run until it settles. */
  add(turn: LiveTurn): void {
    this.turns.set(turn.turnId, turn);
    this.notify();
    void turn.done.finally(() => {
      if (this.turns.get(turn.turnId) === turn) this.turns.delete(turn.turnId);
      this.notify();
    });
  }

  get(turnId: string): LiveTurn | undefined {
    return this.turns.get(turnId);
  }

  get size(): number {
    return this.turns.size;
  }

  /** True once a drain started: the process accepts no new turns. */
  get draining(): boolean {
    return this.drainingFlag;
  }

  /** True once the process stops for good: a turn waiting for the database gives up. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Resolves when a run starts or ends here (or after `ms`). */
  changed(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Graceful drain (SPEC §13.4): from now on no new turn starts here; running turns get `graceMs` to
   * finish, then the rest are stopped with `reason` (they close with their best draft, `interrupted`)
   * and given `closeMs` to write that close. Resolves with how many had to be stopped.
   */
  async drain({ graceMs, closeMs, reason }: { graceMs: number; closeMs: number; reason: () => Error }): Promise<number> {
    this.drainingFlag = true;
    const all = () => Promise.allSettled([...this.turns.values()].map((t) => t.done));
    const finished = await Promise.race([all().then(() => true), sleep(graceMs).then(() => false)]);
    let stopped = 0;
    if (!finished) {
      for (const turn of this.turns.values()) {
        turn.stop(reason());
        stopped++;
      }
      await Promise.race([all(), sleep(closeMs)]);
    }
    this.stoppedFlag = true;
    this.notify();
    return stopped;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
