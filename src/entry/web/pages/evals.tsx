import { useState } from 'preact/hooks';
import { fixed, milliseconds, shortId, time } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { Loadable } from '../ui/status';

/** One configuration of an eval run (the `runs` of `soma eval`'s JSON line, SPEC §13.3). */
interface EvalConfigRun {
  name: string;
  n: number;
  accuracy: number;
  mean_iterations: number;
  exit_reasons?: Record<string, number>;
  tokens?: number;
  p50_ms?: number;
  p95_ms?: number;
}

/** One item under one configuration (`GET /v1/evals/:id` `results`). */
interface EvalItemResult {
  configuration: string;
  item: number;
  input: string;
  expected: string;
  answer: string;
  correct: boolean;
  iterations: number;
  exit_reason: string;
  turn_id: string | null;
  latency_ms: number;
}

interface EvalRun {
  id: string;
  eval?: string;
  name?: string;
  dataset?: string;
  status?: string;
  done?: number;
  total?: number;
  created_at?: string;
  runs?: EvalConfigRun[];
  results?: EvalItemResult[];
}

function Results({ results }: { results: EvalItemResult[] }) {
  const [wrongOnly, setWrongOnly] = useState(false);
  const shown = wrongOnly ? results.filter((r) => !r.correct) : results;
  return (
    <details class="eval-results">
      <summary>Per-item results ({results.length})</summary>
      <label class="small">
        <input type="checkbox" checked={wrongOnly} onChange={(e) => setWrongOnly((e.currentTarget as HTMLInputElement).checked)} /> only wrong answers
      </label>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Per-item results</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Configuration</th>
              <th scope="col">Question</th>
              <th scope="col">Expected</th>
              <th scope="col">Answer</th>
              <th scope="col">Right</th>
              <th scope="col">Iterations</th>
              <th scope="col">Exit</th>
              <th scope="col">Time</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={`${r.configuration}-${r.item}`} data-testid="eval-result">
                <td>{r.item + 1}</td>
                <td>{r.configuration}</td>
                <td>{r.input}</td>
                <td>
                  <code>{r.expected}</code>
                </td>
                <td>{r.turn_id ? <a href={`/trace/${r.turn_id}`}>{r.answer || '(empty)'}</a> : r.answer}</td>
                <td>{r.correct ? '✓ yes' : '✗ no'}</td>
                <td>{r.iterations}</td>
                <td>{r.exit_reason}</td>
                <td>{milliseconds(r.latency_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

const runsOf = (body: unknown): EvalRun[] => {
  if (Array.isArray(body)) return body as EvalRun[];
  const b = body as { evals?: EvalRun[]; runs?: EvalRun[]; items?: EvalRun[] };
  return b.evals ?? b.runs ?? b.items ?? [];
};

function Bars({ runs, value, max, format, label }: { runs: EvalConfigRun[]; value: (r: EvalConfigRun) => number; max: number; format: (v: number) => string; label: string }) {
  return (
    <figure class="bars">
      <figcaption>{label}</figcaption>
      {runs.map((r) => (
        <div class="bar-row" key={r.name}>
          <span class="bar-label">{r.name}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${Math.min(100, (value(r) / (max || 1)) * 100)}%` }} />
          </span>
          <span class="bar-value">{format(value(r))}</span>
        </div>
      ))}
    </figure>
  );
}

export function Evals() {
  useTitle('Evals');
  const list = useApi<unknown>('/v1/evals', '/v1/evals');
  const [open, setOpen] = useState<string | null>(null);
  const detail = useApi<EvalRun>(open ? `/v1/evals/${open}` : null, '/v1/evals/{id}');
  return (
    <section>
      <h1 tabIndex={-1}>Evals</h1>
      <p class="muted">
        Runs of <code>soma eval</code>: a dataset through the real turn path, configurations side by side (single shot against iterating, thresholds…).
      </p>
      <Loadable state={list} feature="Evals" route="GET /v1/evals">
        {(body) => {
          const runs = runsOf(body);
          if (runs.length === 0) return <p>No eval run yet. Start one with <code>soma eval evals/&lt;dataset&gt;.jsonl --compare</code>.</p>;
          return (
            <ul class="eval-list">
              {runs.map((run) => {
                const configs = (open === run.id ? detail.data?.runs : undefined) ?? run.runs ?? [];
                return (
                  <li class="card" key={run.id}>
                    <h2>
                      {run.eval ?? run.name ?? run.dataset ?? `Eval ${shortId(run.id)}`} <span class="muted small">{time(run.created_at)}</span> {run.status ? <span class="badge">{run.status}</span> : null}
                      {run.status === 'running' && run.total ? (
                        <span class="muted small">
                          {' '}
                          {run.done ?? 0}/{run.total} done
                        </span>
                      ) : null}
                    </h2>
                    {configs.length > 0 ? (
                      <div class="grid-2">
                        <Bars runs={configs} value={(r) => r.accuracy} max={1} format={(v) => `${Math.round(v * 100)}%`} label="Accuracy" />
                        <Bars runs={configs} value={(r) => r.mean_iterations} max={Math.max(...configs.map((c) => c.mean_iterations), 1)} format={(v) => fixed(v, 2)} label="Mean iterations" />
                      </div>
                    ) : null}
                    {configs.length > 0 ? (
                      <div class="table-wrap">
                        <table>
                          <caption class="sr-only">Configurations</caption>
                          <thead>
                            <tr>
                              <th scope="col">Configuration</th>
                              <th scope="col">n</th>
                              <th scope="col">Accuracy</th>
                              <th scope="col">Mean iterations</th>
                              <th scope="col">Tokens</th>
                              <th scope="col">p50</th>
                              <th scope="col">p95</th>
                              <th scope="col">Exit reasons</th>
                            </tr>
                          </thead>
                          <tbody>
                            {configs.map((c) => (
                              <tr key={c.name}>
                                <th scope="row">{c.name}</th>
                                <td>{c.n}</td>
                                <td>{fixed(c.accuracy, 3)}</td>
                                <td>{fixed(c.mean_iterations, 2)}</td>
                                <td>{c.tokens ?? '—'}</td>
                                <td>{milliseconds(c.p50_ms)}</td>
                                <td>{milliseconds(c.p95_ms)}</td>
                                <td class="small">
                                  {Object.entries(c.exit_reasons ?? {})
                                    .map(([k, v]) => `${k} ${v}`)
                                    .join(', ')}
                                </td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </div>
                    ) : null}
                    {open === run.id && detail.data?.results ? (
                      <Results results={detail.data.results} />
                    ) : (
                      <button type="button" class="secondary" onClick={() => setOpen(run.id)}>
                        Show results
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
          );
        }}
      </Loadable>
    </section>
  );
}
