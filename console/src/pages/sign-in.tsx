import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { Problem } from '../parts/ui.js';

/** The token form: checked with `GET /v1/whoami`, then kept for this tab only (sessionStorage). */
export function SignIn({ note, signIn }: { note?: string; signIn: (token: string) => Promise<void> }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token.trim());
    } catch (caught) {
      const refused = caught instanceof ApiError;
      setError(
        refused && caught.status === 401
          ? new Error('This token is not one of server.auth.tokens.')
          : refused && caught.status === 403
            ? new Error('This token lacks the read scope the console needs.')
            : (caught as Error),
      );
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>hooksd console</h1>
      {note && <p class="note">{note}</p>}
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
        />
        <p class="hint">
          A token of <code>server.auth.tokens</code> with the <code>read</code> scope (and <code>admin</code> to act).
          It is kept in this tab only, until you sign out or close it.
        </p>
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <Problem error={error} />
    </main>
  );
}
