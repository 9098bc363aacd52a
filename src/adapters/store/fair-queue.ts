import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A queue in front of a resource that does one job at a time (PGlite's single connection): jobs
 * wait in one FIFO per owner, and owners take turns (round-robin), so a tenant with ten clients
 * gets no more of the resource than a tenant with one while both wait, and each tenant's jobs run
 * in arrival order. Between two jobs the event loop gets a turn (I/O first), so an owner whose next
 * job is still being read from a socket is in the ring before the current owner goes again. A job
 * that starts another one from inside itself (re-entrant) runs at once: it already holds the resource.
 */
export interface FairQueue {
  run<T>(owner: string, job: () => Promise<T>): Promise<T>;
  /** Jobs waiting, per owner (for tests and metrics). */
  waiting(): Record<string, number>;
}

interface Entry {
  job: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function createFairQueue(): FairQueue {
  const queues = new Map<string, Entry[]>();
  /** Owners with waiting jobs, in the order they take turns. */
  const ring: string[] = [];
  const inside = new AsyncLocalStorage<true>();
  let busy = false;

  const pump = () => {
    if (busy) return;
    const owner = ring.shift();
    if (owner === undefined) return;
    const queue = queues.get(owner)!;
    const entry = queue.shift()!;
    if (queue.length > 0) ring.push(owner);
    else queues.delete(owner);
    busy = true;
    inside
      .run(true, entry.job)
      .then(entry.resolve, entry.reject)
      .finally(() => {
        // The next job starts after the event loop's I/O phase: PGlite answers without I/O, so a
        // turn's chain of statements would otherwise run back to back in microtasks while other
        // tenants' requests wait unread — measured: 5 tenants × 10 clients got 339 and 10 turns.
        setImmediate(() => {
          busy = false;
          pump();
        });
      });
  };

  return {
    run<T>(owner: string, job: () => Promise<T>): Promise<T> {
      if (inside.getStore()) return job();
      return new Promise<T>((resolve, reject) => {
        let queue = queues.get(owner);
        if (!queue) {
          queue = [];
          queues.set(owner, queue);
          ring.push(owner);
        }
        queue.push({ job, resolve: resolve as (value: unknown) => void, reject });
        pump();
      });
    },
    waiting: () => Object.fromEntries([...queues].map(([owner, queue]) => [owner, queue.length])),
  };
}
