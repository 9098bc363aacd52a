import type { AppContext, Caller } from '../context.js';
import { runEval } from './run-eval.js';

type Running = Map<string, { controller: AbortController; done: Promise<unknown> }>;

/** Eval runs running in the background (`POST /v1/evals`), per server (its context), by run id. */
const registries = new WeakMap<object, Running>();
function runningFor(ctx: object): Running {
  let running = registries.get(ctx);
  if (!running) registries.set(ctx, (running = new Map()));
  return running;
}

/**
 * Runs an eval in the background (`POST /v1/evals` answers 202 at once). A run this process already
 * runs is not started twice. Failures end up on the run (`failed`, its error), never thrown.
 */
export function startEvalInBackground(ctx: AppContext, { caller, runId }: { caller: Caller; runId: string }): void {
  const running = runningFor(ctx);
  if (running.has(runId)) return;
  const controller = new AbortController();
  const done = runEval(ctx, { caller, runId, signal: controller.signal })
    .catch((cause) => ctx.logger.error({ err: cause, eval_run: runId }, 'eval run stopped'))
    .finally(() => running.delete(runId));
  running.set(runId, { controller, done });
}

/** Stops this process's background runs (they are stored `interrupted`; a rerun resumes them) and waits for them. */
export async function stopBackgroundEvals(ctx: object): Promise<void> {
  const runs = [...runningFor(ctx).values()];
  for (const run of runs) run.controller.abort(new DOMException('the server is stopping', 'AbortError'));
  await Promise.all(runs.map((run) => run.done));
}

/**
 * Marks runs left `running` by a stopped process as `interrupted` (a rerun of the same dataset and
 * configurations resumes them): every such run on the embedded database at start (`olderThanMs` < 0),
 * else those without activity for `olderThanMs`.
 */
export async function recoverInterruptedEvals(ctx: Pick<AppContext, 'store' | 'clock'>, { olderThanMs }: { olderThanMs: number }): Promise<number> {
  const before = olderThanMs < 0 ? new Date(ctx.clock.now() + 1) : new Date(ctx.clock.now() - olderThanMs);
  return ctx.store.evals.markInterrupted(before);
}
