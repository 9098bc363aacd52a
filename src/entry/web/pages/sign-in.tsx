import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, errorFrom, signIn } from '../api';
import { useTitle } from '../ui/hooks';

const keyFileHint = (): string | null => document.querySelector<HTMLMetaElement>('meta[name="soma-api-key-file"]')?.content ?? null;

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  useTitle('Sign in');
  const location = useLocation();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const keyFile = keyFileHint();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch('/v1/capsules?limit=1', { headers: { authorization: `Bearer ${key.trim()}` } });
      if (!response.ok) throw await errorFrom(response);
      signIn(key);
      onSignedIn();
      const next = location.query.next;
      location.route(next && next.startsWith('/') && !next.startsWith('//') ? next : '/chat', true);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'This API key is not valid (unknown or revoked).' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card signin">
      <h1 tabIndex={-1}>
        <img src="/favicon.svg" alt="" width="28" height="28" /> Soma Studio
      </h1>
      <p>Watch an agent think in iterations, learn from each one, and roll its learning back.</p>
      <form onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined}>
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="off" required value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} placeholder="soma_…" aria-invalid={error ? true : undefined} />
        {error ? (
          <p id="signin-error" class="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="muted small">The key stays in this browser tab (session storage) and is sent only to this server. Sign out forgets it.</p>
      {keyFile ? (
        <div class="notice" data-testid="key-file-hint">
          <strong>Embedded default:</strong> on its first start <code>soma serve</code> created the tenant “default” and wrote its API key to <code>{keyFile}</code>. Print it with <code>cat {keyFile.startsWith('./') ? keyFile : 'data/api-key'}</code> on the server and paste it here.
        </div>
      ) : (
        <div class="notice">
          Ask the operator of this Soma for an API key (an operator creates one with <code>soma admin tenant create --name …</code> or <code>POST /v1/admin/tenants</code>).
        </div>
      )}
    </section>
  );
}
