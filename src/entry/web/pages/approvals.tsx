import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { shortId, time } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { ErrorNote, Loadable } from '../ui/status';

/** A pending approval (SPEC §13.4: a paused call of a `requires_approval` tool). */
interface Approval {
  turn_id: string;
  call_id: string;
  name?: string;
  tool?: string;
  args?: unknown;
  iteration?: number;
  status?: string;
  conversation_id?: string;
  requested_at?: string;
  created_at?: string;
}

const approvalsOf = (body: unknown): Approval[] => (Array.isArray(body) ? (body as Approval[]) : ((body as { approvals?: Approval[] }).approvals ?? []));

export function Approvals() {
  useTitle('Approvals');
  const list = useApi<unknown>('/v1/approvals?status=pending', '/v1/approvals');
  const [reason, setReason] = useState<Record<string, string>>({});
  const [done, setDone] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);

  const decide = async (a: Approval, approved: boolean) => {
    setError(null);
    try {
      const why = reason[a.call_id]?.trim();
      await api('POST', `/v1/turns/${a.turn_id}/approvals`, { call_id: a.call_id, approved, ...(why ? { reason: why } : {}) });
      setDone((d) => ({ ...d, [a.call_id]: approved ? 'approved — the turn goes on' : 'denied — the model sees a tool error' }));
    } catch (err) {
      setError(err instanceof ApiError && err.unavailable ? new Error('Deciding approvals is not available on this server (POST /v1/turns/:turn_id/approvals).') : (err as Error));
    }
  };

  return (
    <section>
      <h1 tabIndex={-1}>Approvals</h1>
      <p class="muted">Calls of tools that need a person&rsquo;s approval pause their turn until someone decides here.</p>
      {error ? <ErrorNote error={error} /> : null}
      <Loadable state={list} feature="Approvals" route="GET /v1/approvals">
        {(body) => {
          const items = approvalsOf(body);
          if (items.length === 0) return <p>No call is waiting for approval.</p>;
          return (
            <ul class="approvals">
              {items.map((a) => (
                <li class="card" key={a.call_id}>
                  <p>
                    <code>
                      {a.name ?? a.tool}({JSON.stringify(a.args ?? {})})
                    </code>{' '}
                    in turn <a href={`/trace/${a.turn_id}`}>{shortId(a.turn_id)}</a>
                    {a.iteration !== undefined ? `, iteration ${a.iteration + 1}` : ''} <span class="muted small">{time(a.requested_at ?? a.created_at)}</span>
                  </p>
                  {done[a.call_id] ? (
                    <p class="ok" role="status">
                      {done[a.call_id]}
                    </p>
                  ) : (
                    <div class="row">
                      <div>
                        <label for={`reason-${a.call_id}`}>Reason (optional)</label>
                        <input id={`reason-${a.call_id}`} value={reason[a.call_id] ?? ''} onInput={(e) => setReason((r) => ({ ...r, [a.call_id]: (e.target as HTMLInputElement).value }))} />
                      </div>
                      <button type="button" onClick={() => void decide(a, true)}>
                        Approve
                      </button>
                      <button type="button" class="danger" onClick={() => void decide(a, false)}>
                        Deny
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          );
        }}
      </Loadable>
    </section>
  );
}
