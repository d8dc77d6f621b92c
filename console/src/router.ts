import { useEffect, useState } from 'preact/hooks';

/**
 * Client-side routes under /ui: real links (`<a href>`), the URL as the only state a page
 * starts from (filters included, so a link can be shared), history for back and forward.
 */

export const BASE = '/ui';

let listeners: (() => void)[] = [];

export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of listeners) listener();
  if (!replace) {
    window.scrollTo(0, 0);
    // Keyboard and screen reader users start the new page at its content, not at the link they left.
    document.getElementById('main')?.focus({ preventScroll: true });
  }
}

/** The current path and query, updated on navigation and on back and forward. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((tick) => tick + 1);
    listeners.push(changed);
    window.addEventListener('popstate', changed);
    return () => {
      listeners = listeners.filter((listener) => listener !== changed);
      window.removeEventListener('popstate', changed);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Lets plain clicks on links inside the console change the page without a reload. */
export function followLinksInPage(): void {
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = (event.target as Element | null)?.closest('a');
    if (!link || link.target || link.hasAttribute('download') || link.origin !== location.origin) return;
    if (link.pathname !== BASE && !link.pathname.startsWith(`${BASE}/`)) return;
    // A link to a place on this page: the browser scrolls to it.
    if (link.hash && link.pathname === location.pathname && link.search === location.search) return;
    event.preventDefault();
    navigate(link.pathname + link.search + link.hash);
  });
}

/** A console URL: `/ui` + path, with the query's non-empty values. */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `${BASE}${path}${search ? `?${search}` : ''}`;
}

/** An API URL with the query's non-empty values. */
export function apiPath(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  return href(path, query).slice(BASE.length);
}

/** The value of `name` in the query of the current URL, or undefined when empty. */
export const param = (query: URLSearchParams, name: string): string | undefined => query.get(name) || undefined;
