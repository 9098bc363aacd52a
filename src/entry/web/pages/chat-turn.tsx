import { useEffect, useState } from 'preact/hooks';
import { api, type Message, type Trace } from '../api';
import { fixed, time } from '../ui/format';
import { ErrorNote } from '../ui/status';
import { Feedback, IterationCard, type IterationView } from '../ui/turn';
import { fromTrace, type LiveTurn } from './live-turn';

/**
 * A stored turn: the question, its iterations on demand (from the trace), the answer with feedback.
 * The threshold line is the one the turn stopped at (its `turn.started` or its trace); `threshold`
 * (the capsule's) only when neither says.
 */
export function TurnItem({ user, answer, turnId, watched, threshold }: { user?: Message | undefined; answer?: Message | undefined; turnId: string | null; watched?: { iterations: IterationView[]; threshold?: number } | undefined; threshold?: number | undefined }) {
  const [open, setOpen] = useState(watched !== undefined);
  const [iterations, setIterations] = useState<IterationView[] | undefined>(watched?.iterations);
  const [used, setUsed] = useState<number | undefined>(watched?.threshold);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!open || iterations || !turnId) return;
    api<Trace>('GET', `/v1/trace/${turnId}`).then(
      (t) => {
        setIterations(fromTrace(t.iterations, t.exit_reason));
        if (typeof t.threshold === 'number') setUsed(t.threshold);
      },
      (err: Error) => setError(err),
    );
  }, [open]);
  const line = used ?? threshold;
  const meta = answer?.metadata ?? {};
  return (
    <li class="turn" data-testid="turn" data-turn-id={turnId ?? undefined}>
      {user ? <div class="bubble user">{user.content}</div> : null}
      {turnId ? (
        <button type="button" class="link small" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide iterations' : `Show ${meta.iterations ?? ''} iterations`}
        </button>
      ) : null}
      {open && iterations ? (
        <ol class="iterations" aria-label="Iterations">
          {iterations.map((it) => (
            <IterationCard key={it.n} it={it} live={false} {...(line !== undefined ? { threshold: line } : {})} />
          ))}
        </ol>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
      {answer ? (
        <div class="bubble answer" data-testid="answer">
          <p>{answer.content}</p>
          <div class="answer-meta">
            <span class={`badge exit-${meta.exit_reason}`}>{meta.exit_reason}</span>
            <span class="muted small">
              {meta.iterations} iteration{meta.iterations === 1 ? '' : 's'} · convergence {fixed(meta.convergence_score ?? null, 2)} · {time(answer.created_at)}
            </span>
            {turnId ? (
              <>
                <a href={`/trace/${turnId}`}>Trace</a>
                <a href={`/replay/${turnId}`}>Replay</a>
                <Feedback turnId={turnId} />
              </>
            ) : null}
          </div>
        </div>
      ) : turnId ? (
        <p class="muted small">
          No answer stored yet — <a href={`/trace/${turnId}`}>see the trace</a>.
        </p>
      ) : null}
    </li>
  );
}

/** The turn streaming now, iteration by iteration. */
export function LiveTurnItem({ turn, threshold }: { turn: LiveTurn; threshold?: number | undefined }) {
  return (
    <li class="turn live" data-testid="live-turn" aria-busy={!turn.completed && !turn.error}>
      <div class="bubble user">{turn.userText}</div>
      <ol class="iterations" aria-label="Iterations (live)">
        {turn.iterations.map((it) => (
          <IterationCard key={it.n} it={it} live {...(threshold !== undefined ? { threshold } : {})} />
        ))}
      </ol>
      {turn.iterations.length === 0 && !turn.error ? <p class="muted">Waiting for the first iteration…</p> : null}
      {turn.error ? (
        <div class="error" role="alert">
          {turn.error}
          {turn.turnId ? (
            <>
              {' '}
              — <a href={`/trace/${turn.turnId}`}>see the trace</a>
            </>
          ) : null}
        </div>
      ) : null}
      {turn.completed ? (
        <div class="bubble answer" data-testid="answer">
          <p>{turn.completed.content}</p>
        </div>
      ) : null}
    </li>
  );
}
