import { useState } from 'preact/hooks';
import { apiFetch, signIn } from '../api/aws';
import { ErrorNote } from '../ui/common';

/**
 * Shown when the server checks signatures: the person gives one of the access keys the server was
 * started with; the page keeps it for this tab only and signs every call with it.
 */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecretAccessKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    signIn({ accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim() });
    try {
      const res = await apiFetch('/_versa/api/clock', { cache: 'no-store' });
      if (res.ok) {
        onSignedIn();
        return;
      }
      signIn(undefined);
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      setError(new Error(body.message ?? `HTTP ${res.status}`));
    } catch (err) {
      signIn(undefined);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Versa</h1>
      <p class="muted">
        This server checks every request's signature. Give one of the access keys it was started with (its <code>--credentials</code> file
        or <code>VERSA_ACCESS_KEY_ID</code>); the page keeps it for this tab only.
      </p>
      <form class="stack" onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <label>
          Access key ID
          <input
            name="accessKeyId"
            autoComplete="username"
            value={accessKeyId}
            onInput={(e) => setAccessKeyId(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          Secret access key
          <input
            name="secretAccessKey"
            type="password"
            autoComplete="current-password"
            value={secretAccessKey}
            onInput={(e) => setSecretAccessKey(e.currentTarget.value)}
            required
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorNote error={error} label="Sign in" />
    </main>
  );
}
