/**
 * Statistics and the table of `npm run bench:peer`: pooled percentiles (the peer harness's
 * definition, so both sides are summarised the same way), per-round ranges, throughput.
 */

/** One measured run of one contender: turn latencies (ms), measured wall time, CPU. */
export interface Run {
  latencies: number[];
  wallMs: number;
  iterations: number;
  nodeCpuMs: number;
}

export interface Row {
  who: string;
  conc: number;
  rounds: number;
  turns: number;
  turn_p50_ms: number;
  turn_p95_ms: number;
  iter_p50_ms: number;
  iter_p95_ms: number;
  iters_per_s: number;
  iter_p50_round_min: number;
  iter_p50_round_max: number;
  iters_per_s_round_min: number;
  iters_per_s_round_max: number;
  node_cpu_ms_per_iter: number;
}

/** The peer harness's percentile: nearest rank, `ceil(p/100 · n) − 1`. */
export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return pct([...values].sort((a, b) => a - b), 50);
}

export const r3 = (x: number) => Math.round(x * 1000) / 1000;
export const r1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Pools the rounds of one contender at one concurrency: percentiles over every turn latency of every
 * round, throughput = all iterations / all measured wall time, and the per-round range of both.
 */
export function aggregate(who: string, conc: number, itersPerTurn: number, runs: readonly Run[]): Row {
  if (runs.length === 0) throw new Error(`no runs for ${who} at concurrency ${conc}`);
  const lat = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const iterations = runs.reduce((a, r) => a + r.iterations, 0);
  const wall = runs.reduce((a, r) => a + r.wallMs, 0);
  const perRoundRate = runs.map((r) => (r.iterations / r.wallMs) * 1000);
  const perRoundP50 = runs.map((r) => median(r.latencies) / itersPerTurn);
  return {
    who,
    conc,
    rounds: runs.length,
    turns: lat.length,
    turn_p50_ms: r3(pct(lat, 50)),
    turn_p95_ms: r3(pct(lat, 95)),
    iter_p50_ms: r3(pct(lat, 50) / itersPerTurn),
    iter_p95_ms: r3(pct(lat, 95) / itersPerTurn),
    iters_per_s: r1((iterations / wall) * 1000),
    iter_p50_round_min: r3(Math.min(...perRoundP50)),
    iter_p50_round_max: r3(Math.max(...perRoundP50)),
    iters_per_s_round_min: r1(Math.min(...perRoundRate)),
    iters_per_s_round_max: r1(Math.max(...perRoundRate)),
    node_cpu_ms_per_iter: r3(runs.reduce((a, r) => a + r.nodeCpuMs, 0) / iterations),
  };
}

/** A Markdown table of `rows` with the given `[header, cell]` columns. */
export function markdownTable<T>(rows: readonly T[], columns: readonly [string, (row: T) => string | number][]): string {
  const cells = rows.map((row) => columns.map(([, cell]) => String(cell(row))));
  const widths = columns.map(([header], j) => Math.max(header.length, ...cells.map((c) => c[j]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((x, j) => x.padEnd(widths[j]!)).join(' | ')} |`;
  return [line(columns.map(([h]) => h)), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function rowsTable(rows: readonly Row[]): string {
  return markdownTable(rows, [
    ['who', (r) => r.who],
    ['conc', (r) => r.conc],
    ['iter p50 ms', (r) => r.iter_p50_ms],
    ['iter p95 ms', (r) => r.iter_p95_ms],
    ['turn p50 ms', (r) => r.turn_p50_ms],
    ['turn p95 ms', (r) => r.turn_p95_ms],
    ['iters/s', (r) => r.iters_per_s],
    ['iter p50 per round', (r) => `${r.iter_p50_round_min}–${r.iter_p50_round_max}`],
    ['iters/s per round', (r) => `${r.iters_per_s_round_min}–${r.iters_per_s_round_max}`],
    ['node cpu ms/iter', (r) => r.node_cpu_ms_per_iter],
    ['turns', (r) => r.turns],
  ]);
}

/** LangGraph's per-iteration p50 ÷ Soma's at one concurrency (null when either is missing). */
export function ratio(rows: readonly Row[], conc: number, peer = 'langgraph', us = 'soma'): number | null {
  const a = rows.find((r) => r.who === peer && r.conc === conc);
  const b = rows.find((r) => r.who === us && r.conc === conc);
  if (!a || !b || !(b.iter_p50_ms > 0)) return null;
  return Math.round((a.iter_p50_ms / b.iter_p50_ms) * 100) / 100;
}
