import { useEffect, useMemo, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { api, neuromodulatorNames, weightNames, weightSymbols, type Capsule, type LearningPage } from '../api';
import { Chart, seriesColor, type ChartMarker, type ChartSeries } from '../ui/chart';
import { Confirm } from '../ui/confirm';
import { fixed, shortId } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote, Loadable } from '../ui/status';
import { HistoryTable, kindOf, StateTable, type Point } from './learning-tables';

export function Learning() {
  const { params } = useRoute();
  useTitle('Learning');
  return params.capsuleId ? <CapsuleLearning capsuleId={params.capsuleId} /> : <PickCapsule />;
}

function PickCapsule() {
  const capsules = useApi<{ capsules: Capsule[] }>('/v1/capsules?limit=200');
  return (
    <section>
      <h1 tabIndex={-1}>Learning</h1>
      <p>Pick a capsule to see how its weights and neuromodulators moved, turn by turn, and to roll them back.</p>
      <Loadable state={capsules} feature="Capsules" route="GET /v1/capsules">
        {(data) => (
          <ul class="link-list">
            {data.capsules.map((c) => (
              <li key={c.id}>
                <a href={`/learning/${c.id}`}>{c.name}</a> <span class="muted small">learning version {c.learning_version}</span>
              </li>
            ))}
            {data.capsules.length === 0 ? <li>No capsule yet.</li> : null}
          </ul>
        )}
      </Loadable>
    </section>
  );
}

async function loadAll(capsuleId: string): Promise<LearningPage> {
  let page = await api<LearningPage>('GET', `/v1/capsules/${capsuleId}/learning?limit=500`);
  const history = [...page.history];
  for (let pages = 1; page.next_cursor && pages < 20; pages++) {
    page = await api<LearningPage>('GET', `/v1/capsules/${capsuleId}/learning?limit=500&cursor=${page.next_cursor}`);
    history.push(...page.history);
  }
  return { ...page, history };
}

const markerColors: Record<string, string> = { rollback: '#f76b15', reset: '#e5484d', feedback: '#d6409f' };

function CapsuleLearning({ capsuleId }: { capsuleId: string }) {
  const capsule = useApi<Capsule>(`/v1/capsules/${capsuleId}`);
  const [state, setState] = useState<{ data?: LearningPage; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const [pending, setPending] = useState<{ kind: 'rollback'; point: Point; toSeq: number } | { kind: 'reset' } | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  useEffect(() => {
    loadAll(capsuleId).then(
      (data) => setState({ data, loading: false }),
      (error: Error) => setState({ error, loading: false }),
    );
  }, [capsuleId, tick]);

  const history = state.data?.history ?? [];
  const points = useMemo<Point[]>(() => {
    if (history.length === 0) return [];
    const first = history[0]!;
    return [
      { entry: -1, seq: first.seq - 1, weights: first.weights_before, neuromodulators: first.neuromodulators_before, label: 'the start of the history' },
      ...history.map((h, i) => ({ entry: i, seq: h.seq, weights: h.weights_after, neuromodulators: h.neuromodulators_after, label: `update #${h.seq} (${kindOf(h)}${h.turn_id ? `, turn ${shortId(h.turn_id)}` : ''})` })),
    ];
  }, [history]);
  const x = useMemo(() => points.map((p) => p.seq), [points]);
  const weightSeries = useMemo<ChartSeries[]>(() => weightNames.map((w, i) => ({ label: `${weightSymbols[w]} ${w}`, values: points.map((p) => p.weights[w] ?? null), color: seriesColor(i) })), [points]);
  const neuroSeries = useMemo<ChartSeries[]>(() => neuromodulatorNames.map((n, i) => ({ label: n, values: points.map((p) => p.neuromodulators[n] ?? null), color: seriesColor(i + 7) })), [points]);
  const rewardSeries = useMemo<ChartSeries[]>(
    () => [
      { label: 'reward', values: points.map((p) => (p.entry < 0 ? null : (history[p.entry]!.reward ?? null))), color: '#30a46c', points: true },
      { label: 'advantage', values: points.map((p) => (p.entry < 0 ? null : (history[p.entry]!.advantage ?? null))), color: '#8e4ec6', points: true },
    ],
    [points, history],
  );
  const markers = useMemo<ChartMarker[]>(
    () =>
      points.flatMap((p, index) => {
        if (p.entry < 0) return [];
        const kind = kindOf(history[p.entry]!);
        return markerColors[kind] ? [{ index, label: kind, color: markerColors[kind]! }] : [];
      }),
    [points, history],
  );

  /** Restoring point k = restoring the state that held before the history row after it. */
  const pick = (index: number) => {
    const point = points[index];
    const next = history[point ? point.entry + 1 : -1];
    setMessage(null);
    setActionError(null);
    if (!point) return;
    if (!next) {
      setMessage(`That point, ${point.label}, is the current state: nothing to roll back.`);
      return;
    }
    setPending({ kind: 'rollback', point, toSeq: next.seq });
  };

  const confirm = async () => {
    if (!pending) return;
    setBusy(true);
    setActionError(null);
    try {
      if (pending.kind === 'rollback') {
        await api('POST', `/v1/capsules/${capsuleId}/learning/rollback`, { to_seq: pending.toSeq });
        setMessage(`Rolled back to ${pending.point.label}.`);
      } else {
        await api('POST', `/v1/capsules/${capsuleId}/learning/reset`);
        setMessage('Learning reset to the defaults.');
      }
      setPending(null);
      setTick((t) => t + 1);
      capsule.reload();
    } catch (err) {
      setActionError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Learning of {capsule.data?.name ?? 'capsule'}</h1>
        <span class="actions">
          <a href={`/capsules/${capsuleId}`}>Capsule</a>
          <button type="button" class="danger" onClick={() => setPending({ kind: 'reset' })}>
            Reset to defaults
          </button>
        </span>
      </div>
      {message ? (
        <p class="ok" role="status" data-testid="learning-message">
          {message}
        </p>
      ) : null}
      {actionError ? <ErrorNote error={actionError} /> : null}
      <Loadable state={state} feature="Learning history" route="GET /v1/capsules/:id/learning">
        {(data) => (
          <>
            <div class="grid-2">
              <StateTable title="Weights now" names={weightNames} values={data.weights} symbols testId="current-weights" />
              <StateTable title="Neuromodulators now" names={neuromodulatorNames} values={data.neuromodulators} testId="current-neuromodulators" />
            </div>
            <p class="muted small">Learning version {data.learning_version} · {data.history.length} history rows.</p>
            {points.length === 0 ? (
              <p>No learning yet: chat with this capsule and every iteration will move its state.</p>
            ) : (
              <>
                <h2>Weights</h2>
                <p class="muted small">Click a point to roll the capsule back to the state it shows (you confirm first). Dashed lines mark rollbacks, resets and feedback.</p>
                <Chart x={x} series={weightSeries} xLabel="history row (seq)" yLabel="weight" markers={markers} onPick={pick} label={`The seven weights over ${points.length} points of the learning history; click a point to roll back to it`} testId="weights-chart" />
                <h2>Neuromodulators</h2>
                <Chart x={x} series={neuroSeries} xLabel="history row (seq)" yLabel="level" markers={markers} onPick={pick} height={200} label="The four neuromodulators over the learning history" testId="neuromodulators-chart" />
                <h2>Rewards and advantages</h2>
                <Chart x={x} series={rewardSeries} xLabel="history row (seq)" yLabel="value" markers={markers} height={200} label="Reward and advantage of each learning step" testId="rewards-chart" />
                <h2>History</h2>
                <HistoryTable points={points} history={history} onRestore={(index) => pick(index)} />
              </>
            )}
          </>
        )}
      </Loadable>
      <Confirm
        open={pending !== null}
        title={pending?.kind === 'reset' ? 'Reset the learning?' : 'Roll back the learning?'}
        confirmLabel={pending?.kind === 'reset' ? 'Reset' : 'Roll back'}
        busy={busy}
        onConfirm={() => void confirm()}
        onCancel={() => setPending(null)}
      >
        {pending?.kind === 'rollback' ? (
          <>
            <p>
              Restore the weights and neuromodulators of <strong>{pending.point.label}</strong>?
            </p>
            <p class="small mono">{weightNames.map((w) => `${weightSymbols[w]} ${fixed(pending.point.weights[w])}`).join('  ')}</p>
            <p class="muted small">Learning goes on from there; the history keeps every row and records the rollback.</p>
          </>
        ) : (
          <p>Restore the default weights and neuromodulators of this capsule&rsquo;s learning config? The history records the reset.</p>
        )}
      </Confirm>
    </section>
  );
}
