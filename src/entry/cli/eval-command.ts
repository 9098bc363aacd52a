import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDataset, type EvalDataset, type EvalRunSummary } from '../../app/evals/index.js';
import type { Config } from '../../config.js';

export interface EvalCommandOptions {
  compare: string;
  url?: string;
  apiKey?: string;
  fresh?: boolean;
  limit?: string;
  minAccuracy?: string;
}

/** What the command prints its table and JSON line with (the progress bar goes to stderr). */
interface Output {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Reads a JSONL dataset file; every problem is one line naming its line number. */
function readDataset(file: string, limit: number | undefined): EvalDataset {
  const name = path.basename(file).replace(/\.jsonl$/i, '');
  const parsed = parseDataset(name, readFileSync(file, 'utf8'));
  if ('issues' in parsed) throw new Error(`${file}: ${parsed.issues.map((i) => `line ${i.line}: ${i.message}`).join('; ')}`);
  const { dataset } = parsed;
  return limit === undefined ? dataset : { ...dataset, name: `${dataset.name}[:${limit}]`, items: dataset.items.slice(0, limit) };
}

/** The comparison table: one row per configuration. */
export function formatTable(evalName: string, runs: readonly EvalRunSummary[]): string {
  const header = ['configuration', 'n', 'accuracy', 'mean iter.', 'exit reasons', 'tokens', 'p50 ms', 'p95 ms'];
  const rows = runs.map((r) => [
    r.name,
    String(r.n),
    r.accuracy.toFixed(3),
    r.mean_iterations.toFixed(2),
    Object.entries(r.exit_reasons)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    String(r.tokens),
    String(r.p50_ms),
    String(r.p95_ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`eval ${evalName}`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Progress on stderr: a bar on a terminal, else one line per finished item (readable in CI logs). */
interface Progress {
  update(done: number, payload: { configuration: string; right: number }): void;
  stop(): void;
}

async function progressBar(err: NodeJS.WritableStream, total: number, done: number): Promise<Progress> {
  if ((err as NodeJS.WriteStream).isTTY !== true) {
    return { update: (n, { configuration, right }) => void err.write(`eval ${n}/${total} · ${configuration} · right ${right}\n`), stop: () => undefined };
  }
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ format: 'eval [{bar}] {value}/{total} · {configuration} · right {right}', stream: err, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, done, { configuration: '', right: 0 });
  return { update: (n, payload) => bar.update(n, payload), stop: () => bar.stop() };
}

/**
 * `soma eval <dataset.jsonl> --compare single-shot,rlm`: the dataset through the real turn path, in
 * this process (on the configured database and model) or, with `--url`, on a running server
 * (`POST /v1/evals`, then following `GET /v1/evals/:id`). A rerun of the same dataset and
 * configurations resumes an unfinished run. Prints a table, then the JSON line of SPEC §13.3 last.
 * Returns the exit code: 1 when a run failed or an accuracy is below `--min-accuracy`.
 */
export async function runEvalCommand(cfg: Config, file: string, options: EvalCommandOptions, io: Output = { out: process.stdout, err: process.stderr }): Promise<number> {
  const limit = options.limit === undefined ? undefined : Number(options.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new Error('--limit must be a whole number ≥ 1');
  const dataset = readDataset(file, limit);
  const compare = options.compare.split(',').map((s) => s.trim()).filter(Boolean);
  const outcome = options.url ? await overHttp(options.url, options.apiKey ?? apiKeyOf(cfg), dataset, compare, options.fresh ?? false, io) : await inProcess(cfg, options.apiKey, dataset, compare, options.fresh ?? false, io);
  io.out.write(`${formatTable(dataset.name, outcome.runs)}\n`);
  if (outcome.status !== 'completed') io.err.write(`soma: the eval run ${outcome.id} is ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}; run the same command again to resume it\n`);
  io.out.write(`${JSON.stringify({ eval: dataset.name, runs: outcome.runs })}\n`);
  const floor = options.minAccuracy === undefined ? undefined : Number(options.minAccuracy);
  const below = floor === undefined ? [] : outcome.runs.filter((r) => r.accuracy < floor);
  for (const r of below) io.err.write(`soma: ${r.name} accuracy ${r.accuracy} is below --min-accuracy ${floor}\n`);
  return outcome.status === 'completed' && below.length === 0 ? 0 : 1;
}

interface Outcome {
  id: string;
  status: string;
  runs: EvalRunSummary[];
  error?: string;
}

function apiKeyOf(cfg: Config): string | undefined {
  if (process.env.SOMA_API_KEY) return process.env.SOMA_API_KEY;
  try {
    return readFileSync(path.join(cfg.dataDir, 'api-key'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function inProcess(cfg: Config, apiKey: string | undefined, dataset: EvalDataset, compare: string[], fresh: boolean, io: Output): Promise<Outcome> {
  const { createSoma } = await import('../../main.js');
  const { startEval, runEval } = await import('../../app/evals/index.js');
  const { callerForEval } = await import('./eval-caller.js');
  const soma = await createSoma({ config: cfg });
  const controller = new AbortController();
  const stop = () => controller.abort(new DOMException('interrupted', 'AbortError'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const caller = await callerForEval(soma, cfg, apiKey ?? apiKeyOf(cfg));
    const started = await startEval(soma.ctx, { caller, dataset, configurations: compare, fresh });
    if (!started.ok) throw new Error(started.error.message);
    const { run, resumed } = started.value;
    if (resumed) io.err.write(`soma: resuming eval run ${run.id}\n`);
    const already = (await soma.ctx.store.evals.listResults(run.id)).length;
    const bar = await progressBar(io.err, dataset.items.length * compare.length, already);
    let right = 0;
    try {
      const result = await runEval(soma.ctx, {
        caller,
        runId: run.id,
        signal: controller.signal,
        onProgress: ({ done, result: r }) => {
          if (r.correct) right++;
          bar.update(done, { configuration: r.configuration, right });
        },
      });
      return { id: run.id, status: result.status, runs: result.summary, ...(result.error ? { error: result.error } : {}) };
    } finally {
      bar.stop();
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await soma.close();
  }
}

async function overHttp(url: string, apiKey: string | undefined, dataset: EvalDataset, compare: string[], fresh: boolean, io: Output): Promise<Outcome> {
  if (!apiKey) throw new Error('no API key: pass --api-key or set SOMA_API_KEY');
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const call = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(new URL(route, url), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const payload = (await response.json().catch(() => ({}))) as Record<string, unknown> & { error?: { code: string; message: string } };
    if (!response.ok) throw new Error(`${method} ${route}: ${payload.error?.code ?? response.status} ${payload.error?.message ?? ''}`.trim());
    return payload;
  };
  let run = (await call('POST', '/v1/evals', { name: dataset.name, setup: dataset.setup, items: dataset.items, compare, fresh })) as unknown as Outcome & { done: number; total: number };
  const bar = await progressBar(io.err, run.total, run.done);
  let shown = run.done;
  try {
    while (run.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      run = (await call('GET', `/v1/evals/${run.id}`)) as unknown as typeof run;
      const last = (run as unknown as { results?: { configuration: string; correct: boolean }[] }).results ?? [];
      if (run.done !== shown) bar.update(run.done, { configuration: last.at(-1)?.configuration ?? '', right: last.filter((r) => r.correct).length });
      shown = run.done;
    }
  } finally {
    bar.stop();
  }
  return { id: run.id, status: run.status, runs: run.runs, ...(run.error ? { error: run.error } : {}) };
}
