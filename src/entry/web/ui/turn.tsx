import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, serverOperations } from '../api';
import { fixed, milliseconds } from './format';

/** One iteration as the chat shows it, live or from a trace. */
export interface IterationView {
  n: number;
  text: string;
  tools: { callId: string; name: string; args: unknown; ok?: boolean; result?: unknown; error?: string; latencyMs?: number; awaitingApproval?: boolean }[];
  done: boolean;
  confidence?: number | null;
  convergence?: number | null;
  latencyMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  exitReason?: string;
}

export function ScoreBar({ label, value, threshold }: { label: string; value: number | null | undefined; threshold?: number }) {
  const width = value === null || value === undefined ? 0 : Math.max(0, Math.min(1, value)) * 100;
  return (
    <div class="score">
      <span class="score-label">{label}</span>
      <span class="score-track" aria-hidden="true">
        <span class="score-fill" style={{ width: `${width}%` }} />
        {threshold !== undefined ? <span class="score-threshold" style={{ left: `${threshold * 100}%` }} /> : null}
      </span>
      <span class="score-value">{fixed(value, 2)}</span>
    </div>
  );
}

export function IterationCard({ it, live, threshold }: { it: IterationView; live: boolean; threshold?: number }) {
  return (
    <li class={`iteration${it.done ? '' : ' running'}`} data-testid="iteration" data-iteration={it.n}>
      <div class="iteration-head">
        <strong>Iteration {it.n + 1}</strong>
        {!it.done ? <span class="badge live">{live ? 'streaming…' : 'running'}</span> : null}
        {it.exitReason ? <span class={`badge exit-${it.exitReason}`}>{it.exitReason}</span> : null}
      </div>
      <p class="draft" data-testid="iteration-draft">
        {it.text || <span class="muted">(no text yet)</span>}
      </p>
      {it.tools.length > 0 ? (
        <ul class="tool-calls">
          {it.tools.map((t) => (
            <li key={t.callId} data-testid="tool-call">
              <code>
                {t.name}({JSON.stringify(t.args)})
              </code>{' '}
              {t.awaitingApproval && t.ok === undefined ? (
                <span class="muted" data-testid="awaiting-approval">
                  waiting for a person’s approval (<a href="/approvals">Approvals</a>)
                </span>
              ) : t.ok === undefined ? (
                <span class="muted">running…</span>
              ) : t.ok ? (
                <span class="ok">→ {JSON.stringify(t.result)}</span>
              ) : (
                <span class="bad">→ error: {t.error}</span>
              )}
              {t.latencyMs !== undefined ? <span class="muted"> ({milliseconds(t.latencyMs)})</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {it.done ? (
        <div class="scores">
          <ScoreBar label="Confidence" value={it.confidence} />
          <ScoreBar label="Convergence" value={it.convergence} {...(threshold !== undefined ? { threshold } : {})} />
          <span class="muted small">
            {milliseconds(it.latencyMs)} · {it.promptTokens ?? '—'} prompt + {it.completionTokens ?? '—'} completion tokens
          </span>
        </div>
      ) : null}
    </li>
  );
}

const Thumb = ({ down = false }: { down?: boolean }) => (
  <svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" style={down ? { transform: 'rotate(180deg)' } : undefined}>
    <path d="M7 10v11H3V10h4Z" />
    <path d="M7 10l4-8a3 3 0 0 1 3 3v4h5.5a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.1 21H7" />
  </svg>
);

/** 👍 / 👎 on an answer: `POST /v1/turns/:turn_id/feedback` (SPEC §13.2), where the server has it. */
export function Feedback({ turnId }: { turnId: string }) {
  const [available, setAvailable] = useState<boolean | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void serverOperations().then((ops) => setAvailable(ops.has('post /v1/turns/{turn_id}/feedback')));
  }, []);
  const send = async (score: number) => {
    setError(null);
    try {
      await api('POST', `/v1/turns/${turnId}/feedback`, { score });
      setSent(score);
    } catch (err) {
      if (err instanceof ApiError && err.unavailable) setAvailable(false);
      else setError((err as Error).message);
    }
  };
  return (
    <div class="feedback" role="group" aria-label="Feedback on this answer">
      <button type="button" class="icon" aria-pressed={sent === 1} disabled={available === false} onClick={() => send(1)} aria-label="Good answer" title="Good answer">
        <Thumb />
      </button>
      <button type="button" class="icon" aria-pressed={sent === -1} disabled={available === false} onClick={() => send(-1)} aria-label="Bad answer" title="Bad answer">
        <Thumb down />
      </button>
      {available === false ? <span class="muted small" data-testid="feedback-unavailable">Feedback is not available on this server.</span> : null}
      {sent !== null ? (
        <span class="ok small" role="status">
          Thanks — {sent > 0 ? 'counted as a reward' : 'counted as a penalty'}.
        </span>
      ) : null}
      {error ? (
        <span class="bad small" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

