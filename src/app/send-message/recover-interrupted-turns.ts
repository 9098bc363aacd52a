import type { AppContext } from '../context.js';

/**
 * Marks turns left `running` by a process that died as `interrupted` (their committed iterations and
 * events stay). `olderThanMs` protects turns other live processes are still running.
 */
export async function recoverInterruptedTurns({ store, clock }: Pick<AppContext, 'store' | 'clock'>, { olderThanMs }: { olderThanMs: number }): Promise<number> {
  const now = clock.now();
  return store.turns.markInterrupted(
    { startedBefore: new Date(now - olderThanMs) },
    { at: new Date(now), error: { code: 'INTERRUPTED', message: 'the process running this turn stopped', iteration: -1 } },
  );
}
