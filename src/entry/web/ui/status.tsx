import type { ComponentChildren } from 'preact';
import { ApiError } from '../api';

/** The clear "not available on this server" state of a page or control whose API is absent. */
export function Unavailable({ feature, route }: { feature: string; route: string }) {
  return (
    <div class="notice" role="status" data-testid="unavailable">
      <strong>{feature} is not available on this server.</strong> This Soma does not serve <code>{route}</code> yet; the page lights up on its own once it does.
    </div>
  );
}

/** Loading, error and unavailable states of a loaded resource, or its content. */
export function Loadable<T>({ state, feature, route, children }: { state: { data?: T | undefined; error?: Error | undefined; loading: boolean }; feature: string; route: string; children: (data: T) => ComponentChildren }) {
  if (state.error instanceof ApiError && state.error.unavailable) return <Unavailable feature={feature} route={route} />;
  if (state.error) return <ErrorNote error={state.error} />;
  if (state.data === undefined) return <p class="muted" aria-live="polite">Loading…</p>;
  return <>{children(state.data)}</>;
}

export function ErrorNote({ error }: { error: Error }) {
  return (
    <div class="error" role="alert">
      {error instanceof ApiError ? <strong>{error.code}: </strong> : null}
      {error.message}
    </div>
  );
}
