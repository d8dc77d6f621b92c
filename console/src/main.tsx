import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, forgetToken, get, keepToken, storedToken, whenUnauthorized, type Identity } from './api.js';
import { followLinksInPage, useLocation } from './router.js';
import { Layout } from './parts/layout.js';
import { IdentityContext } from './parts/data.js';
import { SignIn } from './pages/sign-in.js';
import { pageFor } from './pages/routes.js';
import './styles.css';

type Session = { state: 'checking' } | { state: 'signed-out'; note?: string } | { state: 'in'; identity: Identity };

/** Who the stored token is, or, with no token, whether the API is open (no tokens configured). */
async function resume(): Promise<Session> {
  const token = storedToken();
  try {
    const identity = await get<Identity>('/v1/whoami', undefined, token);
    return { state: 'in', identity };
  } catch (error) {
    if (token !== null) forgetToken();
    const expired = token !== null && error instanceof ApiError && error.status === 401;
    return { state: 'signed-out', note: expired ? 'The token is no longer valid: sign in again.' : undefined };
  }
}

function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const { path, query } = useLocation();
  useEffect(() => {
    whenUnauthorized(() => {
      forgetToken();
      setSession({ state: 'signed-out', note: 'The token is no longer valid: sign in again.' });
    });
    void resume().then(setSession);
  }, []);

  if (session.state === 'checking') return <p class="boot">Connecting to hooksd…</p>;
  if (session.state === 'signed-out') {
    return (
      <SignIn
        note={session.note}
        signIn={async (token) => {
          const identity = await get<Identity>('/v1/whoami', undefined, token);
          keepToken(token);
          setSession({ state: 'in', identity });
        }}
      />
    );
  }
  const signOut = () => {
    forgetToken();
    setSession({ state: 'signed-out', note: 'Signed out.' });
  };
  return (
    <IdentityContext.Provider value={session.identity}>
      <Layout path={path} signOut={signOut}>
        {pageFor(path, query)}
      </Layout>
    </IdentityContext.Provider>
  );
}

followLinksInPage();
render(<App />, document.getElementById('app')!);
