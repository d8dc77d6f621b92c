import { useApi } from '../parts/data.js';
import { Code, Loading, Problem } from '../parts/ui.js';
import { href } from '../router.js';
import type { EventType, Page } from '../types.js';

export function CatalogPage() {
  const types = useApi<Page<EventType>>('/v1/event-types?limit=250');
  return (
    <>
      <h1>Event catalog</h1>
      <p class="hint">The event types hooksd takes, each with the schema its payload must fit and an example.</p>
      <Problem error={types.error} />
      {!types.data && !types.error && <Loading what="the catalog" />}
      {types.data && types.data.data.length === 0 && <p class="muted">The catalog is empty: every type is taken.</p>}
      {types.data && types.data.data.length > 0 && (
        <nav aria-label="Event types" class="toc">
          <ul>
            {types.data.data.map((type) => (
              <li key={type.name}>
                <a href={`#type-${type.name}`}>{type.name}</a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {types.data?.data.map((type) => (
        <section key={type.name} id={`type-${type.name}`} class="card" aria-labelledby={`h-${type.name}`}>
          <h2 id={`h-${type.name}`}>{type.name}</h2>
          {type.description && <p>{type.description}</p>}
          <p>
            <a href={href('/events', { eventType: type.name })}>Its events</a> ·{' '}
            <a href={href('/messages', { eventType: type.name })}>its messages</a>
          </p>
          <div class="pair">
            <div>
              <h3>Schema</h3>
              {type.schema ? <Code value={type.schema} label={`Schema of ${type.name}`} /> : <p>Any payload.</p>}
            </div>
            <div>
              <h3>Example</h3>
              {type.example === null ? (
                <p class="muted">None.</p>
              ) : (
                <Code value={type.example} label={`Example of ${type.name}`} />
              )}
            </div>
          </div>
        </section>
      ))}
    </>
  );
}
