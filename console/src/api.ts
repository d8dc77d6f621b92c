/**
 * The console's only way to the daemon: its public JSON API on the same origin, with the bearer
 * token the operator signed in with. The token stays in sessionStorage: this tab, until it closes.
 */

const TOKEN_KEY = 'hooksd.token';

export type Scope = 'read' | 'admin' | 'publish';

export interface Identity {
  name: string | null;
  scopes: Scope[];
}

/** An answer other than 2xx, as the API describes it: `{code, message, details}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    /** The whole answer, parsed (readiness answers 503 with its checks). */
    readonly body: unknown = undefined,
  ) {
    super(message);
  }
}

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const keepToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

/** Told when an answer says the token is no longer valid (401): the console signs out. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

function headers(token: string | null, extra: Record<string, string> = {}): Record<string, string> {
  return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}

async function read<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (res.ok) return body as T;
  const error = (body ?? {}) as { code?: string; message?: string; details?: unknown };
  throw new ApiError(
    res.status,
    error.code ?? `HTTP_${res.status}`,
    error.message ?? `the API answered ${res.status}`,
    error.details ?? null,
    body,
  );
}

/** GET a path of the API; rejects with ApiError for any answer but 2xx. */
export async function get<T>(path: string, signal?: AbortSignal, token = storedToken()): Promise<T> {
  const res = await fetch(path, { headers: headers(token), signal });
  if (res.status === 401 && token === storedToken()) onUnauthorized();
  return read<T>(res);
}

/** POST a JSON body to a path of the API. */
export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  const token = storedToken();
  const res = await fetch(path, {
    method: 'POST',
    headers: headers(token, { 'content-type': 'application/json' }),
    body: JSON.stringify(body),
  });
  if (res.status === 401) onUnauthorized();
  return read<T>(res);
}

/**
 * Follows `GET /v1/attempts/live` (server-sent events) with the token in a header, which
 * EventSource cannot send: each `data:` line is handed over parsed. Ends when `signal` aborts.
 */
export async function followAttempts(
  query: string,
  onAttempt: (attempt: LiveAttempt) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(`/v1/attempts/live${query}`, { headers: headers(storedToken()), signal });
  if (!res.ok || res.body === null) return void (await read(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop() ?? '';
    for (const block of blocks) {
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) onAttempt(JSON.parse(line.slice(6)) as LiveAttempt);
      }
    }
  }
}

export interface LiveAttempt {
  at: string;
  consumerId: string;
  eventType: string;
  eventId: string;
  messageId: string;
  trigger: 'scheduled' | 'manual';
  attempt: number | null;
  of: number | null;
  outcome: 'success' | 'failure';
  statusCode: number | null;
  errorClass: string | null;
  error: string | null;
  durationMs: number;
  status: string;
  nextAttemptAt: string | null;
}
