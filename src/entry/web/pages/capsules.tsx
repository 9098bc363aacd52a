import type { Capsule } from '../api';
import { fixed, time } from '../ui/format';
import { useApi, useTitle } from '../ui/hooks';
import { Loadable } from '../ui/status';

export function Capsules() {
  useTitle('Capsules');
  const capsules = useApi<{ capsules: Capsule[]; next_cursor: string | null }>('/v1/capsules?limit=200');
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Capsules</h1>
        <a class="button" href="/capsules/new">
          New capsule
        </a>
      </div>
      <p class="muted">A capsule is an agent: its system prompt, model, iteration settings, tools, policy and what it has learned.</p>
      <Loadable state={capsules} feature="Capsules" route="GET /v1/capsules">
        {(data) =>
          data.capsules.length === 0 ? (
            <p>
              No capsule yet. <a href="/capsules/new">Create the first one</a>.
            </p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Capsules of this tenant</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Model</th>
                    <th scope="col">Tools</th>
                    <th scope="col">Iterations</th>
                    <th scope="col">Threshold</th>
                    <th scope="col">Learning version</th>
                    <th scope="col">Updated</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.capsules.map((c) => (
                    <tr key={c.id}>
                      <th scope="row">
                        <a href={`/capsules/${c.id}`}>{c.name}</a>
                      </th>
                      <td>{c.model ?? <span class="muted">server default</span>}</td>
                      <td>{c.tools.length === 0 ? <span class="muted">none</span> : c.tools.map((t) => t.name).join(', ')}</td>
                      <td>{c.rlm_enabled ? `${c.rlm_min_iterations}–${c.rlm_max_iterations}` : 'single shot'}</td>
                      <td>{fixed(c.rlm_convergence_threshold, 2)}</td>
                      <td>{c.learning_version}</td>
                      <td>{time(c.updated_at)}</td>
                      <td class="actions">
                        <a href={`/chat?capsule=${c.id}`} aria-label={`Chat with ${c.name}`}>
                          Chat
                        </a>
                        <a href={`/learning/${c.id}`} aria-label={`Learning of ${c.name}`}>
                          Learning
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loadable>
    </section>
  );
}
