import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { jsonText } from './format.js';

/** What went wrong, as the API said it (its code and message), shown as text. */
export function Problem({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const code = error instanceof ApiError ? `${error.status} ${error.code}: ` : '';
  return (
    <p class="problem" role="alert">
      {code}
      {error.message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

/** Untrusted text (payloads, bodies, headers): a text node inside `<pre>`, never markup. */
export function Code({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre class="code" aria-label={label} tabIndex={0}>
      {jsonText(value)}
    </pre>
  );
}

export function Fields({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {rows.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value ?? <span class="muted">—</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

export function HeaderTable({ headers }: { headers: Record<string, string | string[]> }) {
  const entries = Object.entries(headers);
  if (entries.length === 0) return <p class="muted">No headers.</p>;
  return (
    <table class="headers">
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{Array.isArray(value) ? value.join(', ') : value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "Newer" back to the first page and "Older" to the next, as real links. */
export function Pager({ first, next }: { first: string | null; next: string | null }) {
  if (first === null && next === null) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {first !== null && <a href={first}>← First page</a>}
      {next !== null && (
        <a href={next} rel="next">
          Older →
        </a>
      )}
    </nav>
  );
}

/**
 * A button that calls the API: busy while it runs, then what came back (`done`) or the API's
 * error. `confirm` asks once more in the page before a change that cannot be taken back.
 */
export function Action<T>({
  label,
  run,
  done,
  confirm,
  kind = 'secondary',
}: {
  label: string;
  run: () => Promise<T>;
  done?: (result: T) => ComponentChildren;
  confirm?: string;
  kind?: 'primary' | 'secondary' | 'danger';
}) {
  const [state, setState] = useState<{ busy: boolean; asking: boolean; result?: T; error?: Error }>({
    busy: false,
    asking: false,
  });
  // The question replaces the button: focus goes to its answer, so the keyboard stays in place.
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (state.asking) yes.current?.focus();
  }, [state.asking]);
  const go = async () => {
    setState({ busy: true, asking: false });
    try {
      const result = await run();
      setState({ busy: false, asking: false, result });
    } catch (error) {
      setState({ busy: false, asking: false, error: error as Error });
    }
  };
  return (
    <div class="action">
      {state.asking ? (
        <span class="confirm">
          <span>{confirm}</span>
          <button type="button" class={kind} onClick={go} ref={yes}>
            Yes, {label.toLowerCase()}
          </button>
          <button type="button" onClick={() => setState({ busy: false, asking: false })}>
            Keep as it is
          </button>
        </span>
      ) : (
        <button
          type="button"
          class={kind}
          disabled={state.busy}
          onClick={() => (confirm ? setState({ busy: false, asking: true }) : go())}
        >
          {state.busy ? `${label}…` : label}
        </button>
      )}
      {state.result !== undefined && done && <div class="done">{done(state.result)}</div>}
      <Problem error={state.error} />
    </div>
  );
}
