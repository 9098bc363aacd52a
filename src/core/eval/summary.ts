/** One item's outcome under one configuration (what `eval_results` stores). */
export interface EvalOutcome {
  correct: boolean;
  iterations: number;
  exitReason: string;
  tokens: number;
  latencyMs: number;
}

/** One configuration's line of `soma eval`'s JSON (SPEC §13.3). */
export interface EvalRunSummary {
  name: string;
  n: number;
  accuracy: number;
  mean_iterations: number;
  exit_reasons: Record<string, number>;
  tokens: number;
  p50_ms: number;
  p95_ms: number;
}

/** The q-quantile of `values` by linear interpolation between closest ranks (0 when empty). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Accuracy, mean iterations, exit reasons, total tokens and latency percentiles of one configuration. */
export function summariseRun(name: string, outcomes: readonly EvalOutcome[]): EvalRunSummary {
  const n = outcomes.length;
  const exitReasons: Record<string, number> = {};
  for (const o of outcomes) exitReasons[o.exitReason] = (exitReasons[o.exitReason] ?? 0) + 1;
  const latencies = outcomes.map((o) => o.latencyMs);
  return {
    name,
    n,
    accuracy: n === 0 ? 0 : round(outcomes.filter((o) => o.correct).length / n, 4),
    mean_iterations: n === 0 ? 0 : round(outcomes.reduce((sum, o) => sum + o.iterations, 0) / n, 3),
    exit_reasons: Object.fromEntries(Object.entries(exitReasons).sort(([a], [b]) => a.localeCompare(b))),
    tokens: outcomes.reduce((sum, o) => sum + o.tokens, 0),
    p50_ms: Math.round(quantile(latencies, 0.5)),
    p95_ms: Math.round(quantile(latencies, 0.95)),
  };
}
