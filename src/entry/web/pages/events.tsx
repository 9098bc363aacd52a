import { useEffect, useState } from 'preact/hooks';
import { api, type SomaEvent } from '../api';
import { shortId, time } from '../ui/format';
import { useTitle } from '../ui/hooks';
import { Loadable } from '../ui/status';

export function Events() {
  useTitle('Events');
  const [events, setEvents] = useState<SomaEvent[]>([]);
  const [after, setAfter] = useState(0);
  const [state, setState] = useState<{ error?: Error; loading: boolean; data?: true }>({ loading: true });
  const [type, setType] = useState('');
  const [follow, setFollow] = useState(false);

  const load = async (from: number) => {
    try {
      const page = await api<{ events: SomaEvent[]; next_after: number }>('GET', `/v1/events?after=${from}&limit=200`);
      setEvents((e) => [...e, ...page.events]);
      setAfter(page.next_after);
      setState({ loading: false, data: true });
      return page.events.length;
    } catch (error) {
      setState({ loading: false, error: error as Error });
      return 0;
    }
  };
  useEffect(() => void load(0), []);
  useEffect(() => {
    if (!follow) return;
    const timer = setInterval(() => void load(after), 2000);
    return () => clearInterval(timer);
  }, [follow, after]);

  const types = [...new Set(events.map((e) => e.event_type))].sort();
  const shown = events.filter((e) => !type || e.event_type === type);
  const counts = events.reduce<Record<string, number>>((acc, e) => ((acc[e.delivery.status] = (acc[e.delivery.status] ?? 0) + 1), acc), {});
  return (
    <section>
      <h1 tabIndex={-1}>Events</h1>
      <p class="muted">
        The tenant&rsquo;s event log (the transactional outbox), oldest first, with each event&rsquo;s delivery to Kafka: <em>pending</em> until the relay publishes it, <em>published</em>, or <em>dead</em> after 5 failed attempts. Without Kafka events stay pending and are read here.
      </p>
      <Loadable state={state} feature="The event log" route="GET /v1/events">
        {() => (
          <>
            <div class="toolbar">
              <label for="event-type">Type</label>
              <select id="event-type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
                <option value="">all ({events.length})</option>
                {types.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
              <label class="check">
                <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> follow new events
              </label>
              <button type="button" class="secondary" onClick={() => void load(after)}>
                Load newer
              </button>
              <span class="muted small">
                {Object.entries(counts)
                  .map(([status, n]) => `${n} ${status}`)
                  .join(' · ')}
              </span>
            </div>
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Events</caption>
                <thead>
                  <tr>
                    <th scope="col">Seq</th>
                    <th scope="col">Type</th>
                    <th scope="col">When</th>
                    <th scope="col">Turn</th>
                    <th scope="col">Delivery</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Published</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((e) => (
                    <tr key={e.seq}>
                      <td>{e.seq}</td>
                      <td>
                        <code>{e.event_type}</code>
                      </td>
                      <td>{time(e.occurred_at)}</td>
                      <td>{e.turn_id ? <a href={`/trace/${e.turn_id}`}>{shortId(e.turn_id)}</a> : '—'}</td>
                      <td>
                        <span class={`badge delivery-${e.delivery.status}`}>{e.delivery.status}</span>
                      </td>
                      <td>{e.delivery.attempts}</td>
                      <td>{time(e.delivery.published_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {shown.length === 0 ? <p>No event yet.</p> : null}
          </>
        )}
      </Loadable>
    </section>
  );
}
