import { useMemo } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import type { Capsule, Trace } from '../api';
import { Chart, type ChartSeries } from '../ui/chart';
import { fixed, milliseconds, shortId, time } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { Loadable } from '../ui/status';
import { TraceIteration } from './trace-iteration';

export function TracePage() {
  const { params } = useRoute();
  const turnId = params.turnId!;
  useTitle(`Trace ${shortId(turnId)}`);
  const trace = useApi<Trace>(`/v1/trace/${turnId}?include_messages=true`);
  const capsule = useApi<Capsule>(trace.data ? `/v1/capsules/${trace.data.capsule_id}` : null);
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Trace of turn {shortId(turnId)}</h1>
        {trace.data ? (
          <span class="actions">
            <a href={`/chat/${trace.data.conversation_id}`}>Conversation</a>
            <a href={`/replay/${turnId}`}>Replay</a>
            <a href={`/learning/${trace.data.capsule_id}`}>Learning</a>
          </span>
        ) : null}
      </div>
      <Loadable state={trace} feature="Traces" route="GET /v1/trace/:turn_id">
        {(t) => <TraceView trace={t} threshold={t.threshold ?? capsule.data?.rlm_convergence_threshold} />}
      </Loadable>
    </section>
  );
}

function TraceView({ trace, threshold }: { trace: Trace; threshold: number | undefined }) {
  const its = trace.iterations;
  const tokens = its.reduce((sum, it) => sum + it.prompt_tokens + it.completion_tokens, 0);
  const latency = its.reduce((sum, it) => sum + it.latency_ms, 0);
  const question = trace.messages?.find((m) => m.role === 'user');
  const answer = trace.messages?.find((m) => m.role === 'assistant');
  const x = useMemo(() => its.map((it) => it.iteration_number + 1), [its]);
  const series = useMemo<ChartSeries[]>(
    () => [
      { label: 'confidence', values: its.map((it) => it.confidence), color: '#0090ff' },
      { label: 'convergence', values: its.map((it) => it.convergence_score), color: '#30a46c' },
      ...(threshold !== undefined ? [{ label: `threshold ${threshold}`, values: its.map(() => threshold), color: '#e5484d', dash: [6, 4] }] : []),
    ],
    [its, threshold],
  );
  return (
    <>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>{trace.status}</dd>
        </div>
        <div>
          <dt>Exit reason</dt>
          <dd>
            <span class={`badge exit-${trace.exit_reason}`} data-testid="exit-reason">
              {trace.exit_reason ?? '—'}
            </span>
          </dd>
        </div>
        <div>
          <dt>Iterations</dt>
          <dd>{trace.total_iterations}</dd>
        </div>
        <div>
          <dt>Convergence</dt>
          <dd>{fixed(trace.convergence_score, 3)}</dd>
        </div>
        <div>
          <dt>Threshold</dt>
          <dd>{fixed(threshold ?? null, 2)}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{tokens}</dd>
        </div>
        <div>
          <dt>Model time</dt>
          <dd>{milliseconds(latency)}</dd>
        </div>
        <div>
          <dt>Seed</dt>
          <dd>{trace.seed}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{time(trace.started_at)}</dd>
        </div>
      </dl>
      {trace.error ? (
        <div class="error">
          {trace.error.code}: {trace.error.message}
        </div>
      ) : null}
      {question ? (
        <p>
          <strong>Question:</strong> {question.content}
        </p>
      ) : null}
      {answer ? (
        <p>
          <strong>Answer:</strong> {answer.content}
        </p>
      ) : null}

      <h2>Timeline</h2>
      <Timeline trace={trace} />

      <h2>Scores</h2>
      <p class="muted small">Confidence and convergence of each iteration; the loop stops once convergence reaches the threshold (and the minimum iterations ran).</p>
      <Chart x={x} series={series} xLabel="iteration" yLabel="score" yRange={[0, 1]} label={`Confidence and convergence over ${its.length} iterations against the threshold ${threshold ?? ''}`} testId="scores-chart" />

      <h2>Iterations</h2>
      <ol class="trace-iterations">
        {its.map((it, i) => (
          <TraceIteration key={it.iteration_number} it={it} previous={its[i - 1]} last={i === its.length - 1} exitReason={trace.exit_reason} />
        ))}
      </ol>
    </>
  );
}

function Timeline({ trace }: { trace: Trace }) {
  const start = new Date(trace.started_at).getTime();
  const end = Math.max(new Date(trace.completed_at ?? trace.started_at).getTime(), ...trace.iterations.map((it) => new Date(it.completed_at).getTime()), start + 1);
  const span = end - start;
  return (
    <div class="timeline" role="list" aria-label="Timeline of the turn">
      {trace.iterations.map((it) => {
        const from = new Date(it.started_at).getTime() - start;
        const to = new Date(it.completed_at).getTime() - start;
        return (
          <div class="timeline-row" role="listitem" key={it.iteration_number}>
            <span class="timeline-label">#{it.iteration_number + 1}</span>
            <span class="timeline-track">
              <span class="timeline-bar" style={{ left: `${(from / span) * 100}%`, width: `${Math.max(((to - from) / span) * 100, 0.8)}%` }} />
            </span>
            <span class="timeline-text small">
              +{milliseconds(from)} → +{milliseconds(to)} · {it.tool_calls.length} tool call{it.tool_calls.length === 1 ? '' : 's'} · {it.exit_reason}
            </span>
          </div>
        );
      })}
    </div>
  );
}
