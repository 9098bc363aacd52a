import { useState } from 'preact/hooks';
import type { Iteration } from '../api';
import { DraftDiff } from '../ui/diff';
import { fixed, json, milliseconds } from '../ui/format';

/** One iteration of the trace: its draft (as a diff to the previous one), scores, tools, policy, memories and raw output. */
export function TraceIteration({ it, previous, last, exitReason }: { it: Iteration; previous: Iteration | undefined; last: boolean; exitReason: string | null }) {
  const [showRaw, setShowRaw] = useState(false);
  const [plain, setPlain] = useState(false);
  const meta = it.metadata ?? {};
  const lane = meta.context?.memories_in_lane ?? 0;
  return (
    <li class="card" data-testid="trace-iteration">
      <h3>
        Iteration {it.iteration_number + 1} <span class={`badge exit-${last ? exitReason : it.exit_reason}`}>{last ? exitReason : it.exit_reason}</span>
      </h3>
      <div class="grid-2">
        <div>
          <h4>Draft{previous ? ' (changes from the previous draft)' : ''}</h4>
          {previous && !plain ? <DraftDiff before={previous.content} after={it.content} /> : <p class="draft">{it.content}</p>}
          {previous ? (
            <button type="button" class="link small" onClick={() => setPlain(!plain)}>
              {plain ? 'Show the diff' : 'Show the plain draft'}
            </button>
          ) : null}
        </div>
        <dl class="facts compact">
          <div>
            <dt>Confidence</dt>
            <dd>{fixed(it.confidence)}</dd>
          </div>
          <div>
            <dt>Convergence</dt>
            <dd>{fixed(it.convergence_score)}</dd>
          </div>
          <div>
            <dt>Stability</dt>
            <dd>{fixed(meta.stability ?? null)}</dd>
          </div>
          <div>
            <dt>Tool success</dt>
            <dd>{fixed(meta.tool_success_rate ?? null, 2)}</dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>
              {it.prompt_tokens} + {it.completion_tokens}
            </dd>
          </div>
          <div>
            <dt>Latency</dt>
            <dd>{milliseconds(it.latency_ms)}</dd>
          </div>
          <div>
            <dt>Learning</dt>
            <dd>
              {meta.learning ?? '—'}
              {meta.reward !== undefined ? ` · reward ${fixed(meta.reward)} · advantage ${fixed(meta.advantage ?? null)}` : ''}
            </dd>
          </div>
          <div>
            <dt>Model</dt>
            <dd>{it.model}</dd>
          </div>
        </dl>
      </div>
      {it.tool_calls.length > 0 ? (
        <>
          <h4>Tool calls</h4>
          <ul class="tool-calls">
            {it.tool_calls.map((call, j) => {
              const result = it.tool_results[j];
              return (
                <li key={j}>
                  <code>
                    {call.name}({JSON.stringify(call.args)})
                  </code>{' '}
                  {result ? result.ok ? <span class="ok">→ {JSON.stringify(result.result)}</span> : <span class="bad">→ {result.outcome ?? 'error'}: {result.error}</span> : null}
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
      {(meta.policy_decisions ?? []).length > 0 ? (
        <>
          <h4>Policy decisions</h4>
          <ul>
            {meta.policy_decisions!.map((d) => (
              <li key={d.call_id}>
                <code>{d.tool}</code>: <span class={d.allow ? 'ok' : 'bad'}>{d.allow ? 'allowed' : 'denied'}</span> by {d.engine}
                {d.reason ? ` (${d.reason})` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h4>Recalled memories</h4>
      {(meta.memories ?? []).length === 0 ? (
        <p class="muted small">No memory was recalled for this turn.</p>
      ) : (
        <ul>
          {meta.memories!.map((m, k) => (
            <li key={m.key}>
              <span class={`badge ${k < lane ? 'ok' : ''}`}>{k < lane ? 'in the lane' : 'left out'}</span> score {fixed(m.score)} — {m.content}
            </li>
          ))}
        </ul>
      )}
      {meta.context ? (
        <p class="muted small">
          Context lanes (tokens):{' '}
          {Object.entries(meta.context)
            .map(([lane, n]) => `${lane} ${n}`)
            .join(' · ')}
        </p>
      ) : null}
      <button type="button" class="link small" aria-expanded={showRaw} onClick={() => setShowRaw(!showRaw)}>
        {showRaw ? 'Hide the raw model output' : 'Show the raw model output'}
      </button>
      {showRaw ? (
        <pre class="raw" tabIndex={0} aria-label={`Raw model output of iteration ${it.iteration_number + 1}`}>
          {json(it.llm_output)}
        </pre>
      ) : null}
    </li>
  );
}
