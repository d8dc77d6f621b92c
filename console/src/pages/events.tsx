import { useState } from 'preact/hooks';
import { useApi } from '../parts/data.js';
import { fromLocalInput, localInput, Time } from '../parts/format.js';
import { Loading, Pager, Problem } from '../parts/ui.js';
import { apiPath, href, navigate, param } from '../router.js';
import type { EventRecord, EventType, Page } from '../types.js';
import { ListTable } from '../parts/list-table.js';
import { ChoiceField, FilterButtons, TimeRange } from '../parts/filter-fields.js';

export function EventsPage({ query }: { query: URLSearchParams }) {
  const filters = { eventType: param(query, 'eventType'), since: param(query, 'since'), until: param(query, 'until') };
  const cursor = param(query, 'cursor');
  const list = useApi<Page<EventRecord>>(apiPath('/v1/events', { ...filters, cursor, limit: 50 }));
  const types = useApi<Page<EventType>>('/v1/event-types?limit=250');
  const [form, setForm] = useState({
    eventType: filters.eventType ?? '',
    since: localInput(filters.since),
    until: localInput(filters.until),
  });
  const submit = (event: Event) => {
    event.preventDefault();
    navigate(
      href('/events', {
        eventType: form.eventType,
        since: fromLocalInput(form.since),
        until: fromLocalInput(form.until),
      }),
    );
  };
  const set = (name: keyof typeof form) => (event: Event) =>
    setForm({ ...form, [name]: (event.target as HTMLInputElement).value });
  return (
    <>
      <h1>Events</h1>
      <form class="filters" onSubmit={submit} aria-label="Filter events">
        <ChoiceField
          id="e-type"
          label="Event type"
          value={form.eventType}
          options={(types.data?.data ?? []).map((type) => type.name)}
          onChange={set('eventType')}
        />
        <TimeRange prefix="e" since={form.since} until={form.until} onSince={set('since')} onUntil={set('until')} />
        <FilterButtons clear={href('/events')} />
      </form>
      <Problem error={list.error} />
      {list.data === undefined && !list.error && <Loading what="events" />}
      {list.data && (
        <>
          {list.data.data.length === 0 ? (
            <p class="muted">No events.</p>
          ) : (
            <ListTable columns={[{ label: 'Event' }, { label: 'Type' }, { label: 'Received' }, { label: 'Subject' }]}>
              {list.data.data.map((event) => (
                <tr key={event.id}>
                  <td data-label="Event">
                    <a href={href(`/events/${encodeURIComponent(event.id)}`)}>{event.id}</a>
                  </td>
                  <td data-label="Type">{event.eventType}</td>
                  <td data-label="Received">
                    <Time iso={event.receivedAt} />
                  </td>
                  <td class="sub" data-label="Subject">
                    {event.subject}
                  </td>
                </tr>
              ))}
            </ListTable>
          )}
          <Pager
            first={cursor ? href('/events', filters) : null}
            next={list.data.nextCursor ? href('/events', { ...filters, cursor: list.data.nextCursor }) : null}
          />
        </>
      )}
    </>
  );
}
