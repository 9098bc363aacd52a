import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, ApiError, weightNames, weightSymbols, type ReplayReport, type Trace } from '../api';
import { fixed, shortId } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote, Unavailable } from '../ui/status';

/** Learning constants a counterfactual may change (top-level numbers of `learning_config`). */
const constants = [
  { name: 'lr_base', help: 'base learning rate (0.05)' },
  { name: 'exploration', help: 'exploration of the perturbation rule, 0–1' },
  { name: 'learn_threshold', help: 'salience needed to learn (0.3)' },
  { name: 'baseline_rate', help: 'rate of the reward baseline (0.2)' },
  { name: 'prior_strength', help: 'pull towards the defaults' },
  { name: 'tau_decay', help: 'τ annealing per step, 0–1' },
];

export function Replay() {
  const { params } = useRoute();
  useTitle('Replay');
  return params.turnId ? <ReplayTurn turnId={params.turnId} /> : <PickTurn />;
}

function PickTurn() {
  const location = useLocation();
  const [turnId, setTurnId] = useState('');
  return (
    <section>
      <h1 tabIndex={-1}>Replay</h1>
      <p>Replay re-runs a recorded turn from its inputs (start state, seed, recorded model output and tool results) and checks that every iteration comes out bit for bit the same. A counterfactual run shows what other settings would have changed, without writing anything.</p>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (turnId.trim()) location.route(`/replay/${turnId.trim()}`);
        }}
      >
        <label for="turn-id">Turn id</label>
        <input id="turn-id" value={turnId} onInput={(e) => setTurnId((e.target as HTMLInputElement).value)} placeholder="a turn id from the chat or a trace" />
        <button type="submit">Open</button>
      </form>
      <p class="muted small">Every answer in the chat and every trace has a Replay link.</p>
    </section>
  );
}

function ReplayTurn({ turnId }: { turnId: string }) {
  const trace = useApi<Trace>(`/v1/trace/${turnId}`);
  const [exact, setExact] = useState<ReplayReport | null>(null);
  const [what, setWhat] = useState<ReplayReport | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const [busy, setBusy] = useState<'exact' | 'counterfactual' | null>(null);
  const [threshold, setThreshold] = useState('');
  const [maxIterations, setMaxIterations] = useState('');
  const [constant, setConstant] = useState('lr_base');
  const [constantValue, setConstantValue] = useState('');

  const run = async (kind: 'exact' | 'counterfactual') => {
    setBusy(kind);
    setError(null);
    const overrides: Record<string, number> = {};
    if (kind === 'counterfactual') {
      if (threshold.trim() !== '') overrides.threshold = Number(threshold);
      if (maxIterations.trim() !== '') overrides.max_iterations = Number(maxIterations);
      if (constantValue.trim() !== '') overrides[constant] = Number(constantValue);
      if (Object.keys(overrides).length === 0) {
        setError(new Error('Set at least one of the threshold, the maximum iterations or a learning constant.'));
        setBusy(null);
        return;
      }
    }
    try {
      const report = await api<ReplayReport>('POST', `/v1/turns/${turnId}/replay`, kind === 'exact' ? {} : { with: overrides });
      if (kind === 'exact') setExact(report);
      else setWhat(report);
    } catch (err) {
      if (err instanceof ApiError && err.unavailable) setUnavailable(true);
      else setError(err as Error);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Replay of turn {shortId(turnId)}</h1>
        <span class="actions">
          <a href={`/trace/${turnId}`}>Trace</a>
        </span>
      </div>
      {trace.data ? (
        <p class="muted">
          Recorded: {trace.data.total_iterations} iterations, exit <strong>{trace.data.exit_reason}</strong>, convergence {fixed(trace.data.convergence_score)}.
        </p>
      ) : trace.error ? (
        <ErrorNote error={trace.error} />
      ) : null}
      {unavailable ? <Unavailable feature="Replay" route="POST /v1/turns/:turn_id/replay" /> : null}
      <div class="card">
        <h2>Exact replay</h2>
        <button type="button" onClick={() => void run('exact')} disabled={busy !== null || unavailable}>
          {busy === 'exact' ? 'Replaying…' : 'Replay this turn'}
        </button>
        {exact ? <Verdict report={exact} /> : null}
      </div>
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void run('counterfactual');
        }}
      >
        <h2>What if…</h2>
        <p class="muted small">Runs the recorded model outputs again under other settings. Nothing is written.</p>
        <div class="row">
          <div>
            <label for="cf-threshold">Convergence threshold</label>
            <input id="cf-threshold" type="number" min={0} max={1} step={0.01} value={threshold} onInput={(e) => setThreshold((e.target as HTMLInputElement).value)} placeholder="e.g. 0.5" />
          </div>
          <div>
            <label for="cf-max">Maximum iterations</label>
            <input id="cf-max" type="number" min={1} max={10} value={maxIterations} onInput={(e) => setMaxIterations((e.target as HTMLInputElement).value)} placeholder="1–10" />
          </div>
          <div>
            <label for="cf-constant">Learning constant</label>
            <select id="cf-constant" value={constant} onChange={(e) => setConstant((e.target as HTMLSelectElement).value)}>
              {constants.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name} — {c.help}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="cf-value">Its value</label>
            <input id="cf-value" type="number" step="any" value={constantValue} onInput={(e) => setConstantValue((e.target as HTMLInputElement).value)} />
          </div>
        </div>
        <button type="submit" disabled={busy !== null || unavailable}>
          {busy === 'counterfactual' ? 'Running…' : 'Run the counterfactual'}
        </button>
        {what ? <Counterfactual report={what} /> : null}
      </form>
      {error ? <ErrorNote error={error} /> : null}
    </section>
  );
}

function Differences({ report }: { report: ReplayReport }) {
  if (report.differences.length === 0) return null;
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Differences</caption>
        <thead>
          <tr>
            <th scope="col">Iteration</th>
            <th scope="col">Field</th>
            <th scope="col">Recorded</th>
            <th scope="col">{report.counterfactual ? 'Would be' : 'Replayed'}</th>
          </tr>
        </thead>
        <tbody>
          {report.differences.map((d, i) => (
            <tr key={i}>
              <td>{d.iteration === 'turn' ? 'turn' : Number(d.iteration) + 1}</td>
              <td>{d.field}</td>
              <td class="mono small">{JSON.stringify(d.recorded)}</td>
              <td class="mono small">{JSON.stringify(d.replayed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Verdict({ report }: { report: ReplayReport }) {
  return (
    <div class={`verdict ${report.identical ? 'same' : 'different'}`} role="status">
      <p data-testid="replay-verdict">
        <strong>{report.identical ? 'Identical' : `${report.differences.length} difference${report.differences.length === 1 ? '' : 's'}`}</strong>
        {report.identical
          ? ` — all ${report.replayed.iterations} iterations reproduced exactly: weights, neuromodulators, confidence, convergence and exit reason (${report.replayed.exit_reason}).`
          : ' — the replay did not reproduce the recorded turn:'}
      </p>
      {report.interleaved.length > 0 ? <p class="muted small">Other turns learned before iteration(s) {report.interleaved.map((k) => k + 1).join(', ')}; replay started those from the recorded history.</p> : null}
      <Differences report={report} />
    </div>
  );
}

function Counterfactual({ report }: { report: ReplayReport }) {
  const final = report.replayed.final_weights;
  return (
    <div class="verdict" role="status" data-testid="counterfactual">
      <table class="compare">
        <caption class="sr-only">Recorded against the counterfactual</caption>
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">Recorded</th>
            <th scope="col">Would be</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Iterations</th>
            <td>{report.recorded.iterations}</td>
            <td>{report.replayed.iterations}</td>
          </tr>
          <tr>
            <th scope="row">Exit reason</th>
            <td>{report.recorded.exit_reason}</td>
            <td>{report.replayed.exit_reason}</td>
          </tr>
          <tr>
            <th scope="row">Answer from iteration</th>
            <td>{report.recorded.answer_iteration === null ? '—' : report.recorded.answer_iteration + 1}</td>
            <td>{report.replayed.answer_iteration === null ? '—' : report.replayed.answer_iteration + 1}</td>
          </tr>
        </tbody>
      </table>
      {final ? <p class="small mono">Weights after: {weightNames.map((w) => `${weightSymbols[w]} ${fixed(final[w])}`).join('  ')}</p> : null}
      <p>{report.differences.length === 0 ? 'Nothing would change.' : `${report.differences.length} field${report.differences.length === 1 ? '' : 's'} would change:`}</p>
      <Differences report={report} />
    </div>
  );
}
