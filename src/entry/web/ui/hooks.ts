import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, ApiError, serverOperations } from '../api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (when not null) and reloads when it changes or `reload()` is called. With `operation`
 * (an `/openapi.json` path such as `/v1/evals`), a server that does not document it is known to lack
 * the route without asking it (no 404 in the console); a 404/405 answer means the same.
 */
export function useApi<T>(path: string | null, operation?: string): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    const documented = operation ? serverOperations().then((ops) => ops.has(`get ${operation}`)) : Promise.resolve(true);
    documented
      .then((exists) => (exists ? api<T>('GET', path, undefined, controller.signal) : Promise.reject(new ApiError(404, 'NOT_FOUND', `${operation} is not served here`))))
      .then(
      (data) => setState({ data, loading: false }),
      (error: ApiError | Error) => {
        if (!controller.signal.aborted) setState({ error, loading: false });
      },
    );
    return () => controller.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Sets the document title for a page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Soma Studio`;
  }, [title]);
}
