import type { EvalDataset, EvalRunSummary } from '../../core/eval/index.js';
import type { EvalResultRecord, EvalRunRecord } from '../../ports/store.js';
import type { Failure } from '../../shared/errors.js';
import { ok, refuse, type Result } from '../../shared/result.js';
import type { Caller, StoreContext } from '../context.js';
import { decodeCursor, pageOf } from '../keyset-cursor.js';
import { summariesOf } from './run-eval.js';

/** An eval run as the API shows it: the JSON line of `soma eval` plus its state. */
export function evalRunView(run: EvalRunRecord, results?: readonly EvalResultRecord[]) {
  const dataset = run.dataset as EvalDataset;
  const runs: EvalRunSummary[] = results ? summariesOf(run.configurations, results) : (run.summary as EvalRunSummary[]);
  return {
    id: run.id,
    eval: run.name,
    status: run.status,
    configurations: run.configurations,
    items: dataset.items.length,
    done: results?.length ?? runs.reduce((sum, r) => sum + r.n, 0),
    total: dataset.items.length * run.configurations.length,
    runs,
    environment: run.environment,
    error: run.error,
    created_at: run.createdAt.toISOString(),
    updated_at: run.updatedAt.toISOString(),
    completed_at: run.completedAt?.toISOString() ?? null,
  };
}

export function evalResultView(result: EvalResultRecord) {
  return {
    configuration: result.configuration,
    item: result.itemIndex,
    input: result.input,
    expected: result.expected,
    match: result.match,
    answer: result.answer,
    correct: result.correct,
    detail: result.detail,
    tags: result.tags,
    turn_id: result.turnId,
    conversation_id: result.conversationId,
    iterations: result.iterations,
    exit_reason: result.exitReason,
    tokens: result.tokens,
    tools_used: result.toolsUsed,
    latency_ms: result.latencyMs,
  };
}

/** `GET /v1/evals`: the tenant's runs, newest first. */
export async function listEvals({ store }: Pick<StoreContext, 'store'>, { caller, limit, cursor }: { caller: Caller; limit: number; cursor?: string }) {
  let after;
  if (cursor) {
    const decoded = decodeCursor(cursor);
    if (!decoded.ok) return decoded;
    after = decoded.value;
  }
  const rows = await store.evals.listRuns(caller.tenantId, { limit: limit + 1, ...(after ? { after } : {}) });
  const { page, nextCursor } = pageOf(rows, limit, (run) => ({ at: run.createdAt, id: run.id }));
  return ok({ evals: page.map((run) => evalRunView(run)), next_cursor: nextCursor });
}

/** `GET /v1/evals/:id`: one of the tenant's runs with every item's result (summaries recomputed while it runs). */
export async function getEval({ store }: Pick<StoreContext, 'store'>, { caller, id }: { caller: Caller; id: string }): Promise<Result<ReturnType<typeof evalRunView> & { results: ReturnType<typeof evalResultView>[] }, Failure>> {
  const run = await store.evals.findRun(caller.tenantId, id);
  if (!run) return refuse('NOT_FOUND', `eval run ${id} not found`);
  const results = await store.evals.listResults(id);
  return ok({ ...evalRunView(run, results), results: results.map(evalResultView) });
}
