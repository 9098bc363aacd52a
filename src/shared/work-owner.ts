import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who the work of the current async context is for (a tenant id), so a shared resource can serve
 * owners fairly — the embedded database's single connection queues per owner. Set once per request
 * by the HTTP layer; background work (relay, sweeps) has no owner.
 */
const owners = new AsyncLocalStorage<string>();

/** Runs `work` (and everything it starts) on behalf of `owner`. */
export function runAsOwner<T>(owner: string, work: () => T): T {
  return owners.run(owner, work);
}

/** The owner of the current async context, if any. */
export function currentOwner(): string | undefined {
  return owners.getStore();
}
