import type { ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { BASE } from '../router.js';
import { IdentityContext } from './data.js';

const SECTIONS: [string, string][] = [
  ['', 'Overview'],
  ['/messages', 'Messages'],
  ['/events', 'Events'],
  ['/dead-letters', 'Dead letters'],
  ['/event-types', 'Event catalog'],
];

/** The section a path belongs to, for the navigation's current item. */
function sectionOf(path: string): string {
  const rest = path.slice(BASE.length);
  if (rest.startsWith('/consumers')) return '';
  return SECTIONS.map(([to]) => to).find((to) => to !== '' && rest.startsWith(to)) ?? '';
}

export function Layout({
  path,
  signOut,
  children,
}: {
  path: string;
  signOut: () => void;
  children: ComponentChildren;
}) {
  const identity = useContext(IdentityContext);
  const current = sectionOf(path);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={BASE}>
          hooksd
        </a>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map(([to, name]) => (
              <li key={to}>
                <a href={BASE + to} aria-current={current === to ? 'page' : undefined}>
                  {name}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span title={`scopes: ${identity.scopes.join(', ')}`}>
            {identity.name ?? 'open API'} · {identity.scopes.join(', ')}
          </span>
          {identity.name !== null && (
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
