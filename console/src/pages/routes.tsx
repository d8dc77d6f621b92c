import { BASE } from '../router.js';
import { CatalogPage } from './catalog.js';
import { ConsumerPage } from './consumer.js';
import { DeadLettersPage } from './dead-letters.js';
import { EventPage } from './event.js';
import { EventsPage } from './events.js';
import { MessagePage } from './message.js';
import { MessagesPage } from './messages.js';
import { OverviewPage } from './overview.js';

/** The page for a path under /ui; the query carries its filters. */
export function pageFor(path: string, query: URLSearchParams) {
  const rest = path.slice(BASE.length).replace(/\/+$/, '');
  const [, section, id, more] = rest.split('/').map((part) => decodeURIComponent(part));
  if (more === undefined) {
    if (section === undefined) return <OverviewPage />;
    if (section === 'consumers' && id) return <ConsumerPage key={id} id={id} />;
    if (section === 'messages' && id === undefined) return <MessagesPage query={query} />;
    if (section === 'messages') return <MessagePage key={id} id={id} />;
    if (section === 'events' && id === undefined) return <EventsPage query={query} />;
    if (section === 'events') return <EventPage key={id} id={id} />;
    if (section === 'dead-letters' && id === undefined) return <DeadLettersPage query={query} />;
    if (section === 'event-types' && id === undefined) return <CatalogPage />;
  }
  return (
    <>
      <h1>Not found</h1>
      <p>
        The console has no page at <code>{path}</code>. <a href={BASE}>Go to the overview</a>.
      </p>
    </>
  );
}
