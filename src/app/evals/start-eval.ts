import { parseConfigurations, validateDataset, type EvalDataset } from '../../core/eval/index.js';
import type { EvalRunRecord } from '../../ports/store.js';
import type { Failure } from '../../shared/errors.js';
import { canonicalJson, sha256Hex } from '../../shared/hash.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { AppContext, Caller } from '../context.js';

/**
 * Starts an eval run (`soma eval`, `POST /v1/evals`): checks the configurations and that every
 * `judge` item has the operator's judge model, then stores the run — or, unless `fresh`, returns the
 * caller's unfinished run of the same dataset and configurations so it resumes where it stopped.
 */
export async function startEval(
  ctx: Pick<AppContext, 'store' | 'ids' | 'clock' | 'settings'>,
  { caller, dataset, configurations, fresh = false, exclusive = true }: { caller: Caller; dataset: EvalDataset; configurations: string[]; fresh?: boolean; exclusive?: boolean },
): Promise<Result<{ run: EvalRunRecord; resumed: boolean }, Failure>> {
  const parsed = parseConfigurations(configurations);
  if ('error' in parsed) return refuse('VALIDATION_FAILED', parsed.error);
  if (dataset.items.some((item) => item.match === 'judge') && !ctx.settings.evalJudgeModel) {
    return refuse('VALIDATION_FAILED', 'the dataset has "judge" items but this server has no judge model (the operator sets SOMA_EVAL_JUDGE_MODEL)');
  }
  const names = parsed.configurations.map((c) => c.name);
  const datasetHash = sha256Hex(canonicalJson(dataset));
  const unfinished = fresh ? undefined : await ctx.store.evals.findResumable(caller.tenantId, datasetHash, names);
  if (exclusive) {
    const other = await ctx.store.evals.findRunning(caller.tenantId);
    if (other && other.id !== unfinished?.id) return refuse('CONFLICT', `eval run ${other.id} of this tenant is still running; one eval runs at a time`);
  }
  if (unfinished) {
    await ctx.store.evals.updateRun(unfinished.id, { status: 'running', updatedAt: new Date(ctx.clock.now()) });
    return ok({ run: { ...unfinished, status: 'running' }, resumed: true });
  }
  const now = new Date(ctx.clock.now());
  const run = {
    id: ctx.ids.uuid(),
    tenantId: caller.tenantId,
    userId: caller.userId,
    name: dataset.name,
    datasetHash,
    dataset,
    configurations: names,
    status: 'running' as const,
    environment: { default_model: ctx.settings.defaultModel, max_output_tokens: ctx.settings.maxOutputTokens, rlm: ctx.settings.rlm },
    createdAt: now,
  };
  await ctx.store.evals.insertRun(run);
  return ok({ run: { ...run, summary: [], error: null, updatedAt: now, completedAt: null }, resumed: false });
}

/**
 * `POST /v1/evals`: the dataset as JSON values (`{name, setup?, items}`) is validated first — a bad
 * item is a VALIDATION_FAILED naming `items.<n>`, and nothing is written — then {@link startEval}.
 */
export async function startEvalFromRequest(
  ctx: Pick<AppContext, 'store' | 'ids' | 'clock' | 'settings'>,
  { caller, name, setup, items, configurations, fresh }: { caller: Caller; name: string; setup?: unknown; items: unknown[]; configurations: string[]; fresh?: boolean },
): Promise<Result<{ run: EvalRunRecord; resumed: boolean }, Failure>> {
  const validated = validateDataset({ name, setup, items });
  if ('issues' in validated) {
    return refuse('VALIDATION_FAILED', 'the dataset is not valid', validated.issues.map((i) => ({ path: i.item === undefined ? 'setup' : `items.${i.item}`, message: i.message })));
  }
  return startEval(ctx, { caller, dataset: validated.dataset, configurations, fresh });
}
