import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, get, type Identity, type Scope } from '../api.js';

/** Who signed in: the token's name and scopes (`GET /v1/whoami`). */
export const IdentityContext = createContext<Identity>({ name: null, scopes: [] });

/** Whether the token has `scope`: buttons that need it are shown only then (the server checks anyway). */
export function useCan(scope: Scope): boolean {
  return useContext(IdentityContext).scopes.includes(scope);
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  /** Reads again, keeping what is shown until the answer comes. */
  reload: () => void;
}

/** GETs `path` (none when null), again whenever it changes or `reload` is called. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; path: string | null }>({
    loading: path !== null,
    path,
  });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    if (path === null) return undefined;
    const abort = new AbortController();
    setState((before) => ({ ...(before.path === path ? before : {}), path, loading: true }));
    get<T>(path, abort.signal).then(
      (data) => setState({ data, loading: false, path }),
      (error: Error) => {
        if (!abort.signal.aborted) setState({ error, loading: false, path });
      },
    );
    return () => abort.abort();
  }, [path, generation]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload,
  };
}

/** Calls `tick` every `ms` while `active`, first after `ms` (the latest `tick` given, without restarting the clock). */
export function useEvery(ms: number, active: boolean, tick: () => void): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
}
