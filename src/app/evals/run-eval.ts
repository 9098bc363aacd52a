import { parseConfigurations, summariseRun, type EvalDataset, type EvalRunSummary } from '../../core/eval/index.js';
import type { EvalResultRecord } from '../../ports/store.js';
import type { AppContext, Caller } from '../context.js';
import { evaluateItem } from './evaluate-item.js';

/** What `onProgress` hears after each item under each configuration. */
export interface EvalProgress {
  done: number;
  total: number;
  result: EvalResultRecord;
}

/** Summaries of the stored results, one per configuration in the run's order. */
export function summariesOf(configurations: readonly string[], results: readonly EvalResultRecord[]): EvalRunSummary[] {
  return configurations.map((name) => summariseRun(name, results.filter((r) => r.configuration === name)));
}

/**
 * Runs (or resumes) an eval: every item under every configuration that has no stored result yet,
 * item by item (so a stopped run compares its configurations on the same items), each through
 * {@link evaluateItem} and stored at once. Ends `completed` with the summaries, `interrupted` when
 * `signal` aborts (a rerun resumes it), or `failed` with the error.
 */
export async function runEval(
  ctx: AppContext,
  { caller, runId, onProgress, signal }: { caller: Caller; runId: string; onProgress?: (progress: EvalProgress) => void; signal?: AbortSignal },
): Promise<{ status: 'completed' | 'interrupted' | 'failed'; summary: EvalRunSummary[]; error?: string }> {
  const run = await ctx.store.evals.findRun(caller.tenantId, runId);
  if (!run) throw new Error(`eval run ${runId} not found`);
  const dataset = run.dataset as EvalDataset;
  const parsed = parseConfigurations(run.configurations);
  if ('error' in parsed) throw new Error(parsed.error);
  const results = await ctx.store.evals.listResults(runId);
  const done = new Set(results.map((r) => `${r.configuration}\u0000${r.itemIndex}`));
  const total = dataset.items.length * parsed.configurations.length;
  let status: 'completed' | 'interrupted' | 'failed' = 'completed';
  let error: string | undefined;
  try {
    for (const [index, item] of dataset.items.entries()) {
      for (const configuration of parsed.configurations) {
        if (done.has(`${configuration.name}\u0000${index}`)) continue;
        signal?.throwIfAborted();
        const result = await evaluateItem(ctx, { caller, runId, dataset, configuration, item, index, signal });
        if (signal?.aborted) signal.throwIfAborted();
        await ctx.store.evals.insertResult(result);
        await ctx.store.evals.updateRun(runId, { updatedAt: new Date(ctx.clock.now()) });
        results.push(result);
        onProgress?.({ done: results.length, total, result });
      }
    }
  } catch (cause) {
    if (signal?.aborted) status = 'interrupted';
    else {
      status = 'failed';
      error = cause instanceof Error ? cause.message : String(cause);
      ctx.logger.error({ err: cause, eval_run: runId }, 'eval run failed');
    }
  }
  const summary = summariesOf(run.configurations, results);
  const now = new Date(ctx.clock.now());
  await ctx.store.evals.updateRun(runId, { status, summary, updatedAt: now, error: error ?? null, ...(status === 'completed' ? { completedAt: now } : {}) });
  return { status, summary, ...(error ? { error } : {}) };
}
