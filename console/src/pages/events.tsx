import { useState } from 'preact/hooks';
import { useApi } from '../parts/data.js';
import { fromLocalInput, localInput, Time } from '../parts/format.js';
import { Loading, Pager, Problem } from '../parts/ui.js';
import { apiPath, href, navigate, param } from '../router.js';
import type { EventRecord, EventType, Page } from '../types.js';

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
        <div>
          <label for="e-type">Event type</label>
          <select id="e-type" value={form.eventType} onChange={set('eventType')}>
            <option value="">any</option>
            {(types.data?.data ?? []).map((type) => (
              <option key={type.name} value={type.name}>
                {type.name}
              </option>
            ))}
            {form.eventType && !types.data?.data.some((type) => type.name === form.eventType) && (
              <option value={form.eventType}>{form.eventType}</option>
            )}
          </select>
        </div>
        <div>
          <label for="e-since">Since</label>
          <input id="e-since" type="datetime-local" value={form.since} onInput={set('since')} />
        </div>
        <div>
          <label for="e-until">Until</label>
          <input id="e-until" type="datetime-local" value={form.until} onInput={set('until')} />
        </div>
        <div class="buttons">
          <button type="submit" class="primary">
            Filter
          </button>
          <a href={href('/events')}>Clear</a>
        </div>
      </form>
      <Problem error={list.error} />
      {list.data === undefined && !list.error && <Loading what="events" />}
      {list.data && (
        <>
          {list.data.data.length === 0 ? (
            <p class="muted">No events.</p>
          ) : (
            <div class="table-wrap">
              <table class="list cards-on-phone">
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Type</th>
                    <th scope="col">Received</th>
                    <th scope="col">Subject</th>
                  </tr>
                </thead>
                <tbody>
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
                </tbody>
              </table>
            </div>
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
