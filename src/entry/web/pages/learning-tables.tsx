import { weightSymbols, type LearningEntry, type Vector } from '../api';
import { fixed, shortId, time } from '../ui/format';

/** One point of the curves: the learned state at that moment. */
export interface Point {
  /** Index of the history row that produced it, or -1 for the state before the first row. */
  entry: number;
  seq: number;
  weights: Vector;
  neuromodulators: Vector;
  label: string;
}

/** What a history row was, for its marker and label: feedback, or the kind of update. */
export const kindOf = (entry: LearningEntry) => (entry.source === 'feedback' ? 'feedback' : entry.kind);

/** The current weights or neuromodulators, one row each. */
export function StateTable({ title, names, values, symbols = false, testId }: { title: string; names: readonly string[]; values: Vector; symbols?: boolean; testId: string }) {
  return (
    <table class="state" data-testid={testId}>
      <caption>{title}</caption>
      <tbody>
        {names.map((n) => (
          <tr key={n}>
            <th scope="row">{symbols ? `${weightSymbols[n]} ${n}` : n}</th>
            <td data-name={n}>{fixed(values[n], 4)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The learning history, newest first, with a rollback button on every point but the current one. */
export function HistoryTable({ points, history, onRestore }: { points: Point[]; history: LearningEntry[]; onRestore: (index: number) => void }) {
  const rows = points.map((p, index) => ({ p, index })).reverse().slice(0, 200);
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Learning history, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Point</th>
            <th scope="col">Kind</th>
            <th scope="col">Turn</th>
            <th scope="col">Reward</th>
            <th scope="col">Advantage</th>
            <th scope="col">α</th>
            <th scope="col">λ</th>
            <th scope="col">When</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ p, index }) => {
            const entry = p.entry >= 0 ? history[p.entry] : undefined;
            const current = index === points.length - 1;
            return (
              <tr key={p.seq}>
                <th scope="row">{entry ? `#${entry.seq}` : 'start'}</th>
                <td>{entry ? kindOf(entry) : 'before learning'}</td>
                <td>{entry?.turn_id ? <a href={`/trace/${entry.turn_id}`}>{shortId(entry.turn_id)}</a> : '—'}</td>
                <td>{fixed(entry?.reward ?? null)}</td>
                <td>{fixed(entry?.advantage ?? null)}</td>
                <td>{fixed(p.weights.alpha)}</td>
                <td>{fixed(p.weights.lambda)}</td>
                <td>{entry ? time(entry.created_at) : '—'}</td>
                <td>
                  {current ? (
                    <span class="muted small">current</span>
                  ) : (
                    <button type="button" class="secondary small" onClick={() => onRestore(index)} aria-label={`Roll back here: ${p.label}`}>
                      Roll back here
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
