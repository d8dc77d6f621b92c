import { useState } from 'preact/hooks';
import { useApi } from '../parts/data.js';
import { fromLocalInput, localInput } from '../parts/format.js';
import { MessageTable } from '../parts/message-table.js';
import { Loading, Pager, Problem } from '../parts/ui.js';
import { apiPath, href, navigate, param } from '../router.js';
import { MESSAGE_STATUSES, type Consumer, type EventType, type Message, type Page } from '../types.js';

const FILTERS = ['consumerId', 'eventType', 'status', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function readFilters(query: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.map((name) => [name, param(query, name)]).filter(([, v]) => v !== undefined));
}

/** The filter form: its values go into the URL, so the list it shows can be linked to. */
function FilterForm({ filters }: { filters: Filters }) {
  const consumers = useApi<Page<Consumer>>('/v1/consumers?limit=250');
  const types = useApi<Page<EventType>>('/v1/event-types?limit=250');
  const [form, setForm] = useState({
    ...filters,
    since: localInput(filters.since),
    until: localInput(filters.until),
  });
  const set = (name: string) => (event: Event) =>
    setForm({ ...form, [name]: (event.target as HTMLInputElement | HTMLSelectElement).value });
  const submit = (event: Event) => {
    event.preventDefault();
    navigate(
      href('/messages', {
        ...form,
        since: fromLocalInput(form.since ?? ''),
        until: fromLocalInput(form.until ?? ''),
      }),
    );
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Filter messages">
      <div>
        <label for="f-consumer">Consumer</label>
        <select id="f-consumer" name="consumerId" value={form.consumerId ?? ''} onChange={set('consumerId')}>
          <option value="">any</option>
          {(consumers.data?.data ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {c.id}
            </option>
          ))}
          {form.consumerId && !consumers.data?.data.some((c) => c.id === form.consumerId) && (
            <option value={form.consumerId}>{form.consumerId}</option>
          )}
        </select>
      </div>
      <div>
        <label for="f-type">Event type</label>
        <select id="f-type" name="eventType" value={form.eventType ?? ''} onChange={set('eventType')}>
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
        <label for="f-status">Status</label>
        <select id="f-status" name="status" value={form.status ?? ''} onChange={set('status')}>
          <option value="">any</option>
          {MESSAGE_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="f-since">Since</label>
        <input id="f-since" type="datetime-local" value={form.since} onInput={set('since')} />
      </div>
      <div>
        <label for="f-until">Until</label>
        <input id="f-until" type="datetime-local" value={form.until} onInput={set('until')} />
      </div>
      <div class="buttons">
        <button type="submit" class="primary">
          Filter
        </button>
        <a href={href('/messages')}>Clear</a>
      </div>
    </form>
  );
}

/** Goes straight to a message (msg_…) or to an event and its messages (any other id). */
function FindById() {
  const [id, setId] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    const wanted = id.trim();
    if (!wanted) return;
    navigate(href(`/${wanted.startsWith('msg_') ? 'messages' : 'events'}/${encodeURIComponent(wanted)}`));
  };
  return (
    <form class="find" onSubmit={submit} role="search">
      <label for="find-id">Message or event id</label>
      <input id="find-id" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
      <button type="submit">Open</button>
    </form>
  );
}

export function MessagesPage({ query }: { query: URLSearchParams }) {
  const filters = readFilters(query);
  const cursor = param(query, 'cursor');
  const list = useApi<Page<Message>>(apiPath('/v1/messages', { ...filters, cursor, limit: 50 }));
  const page = list.data;
  return (
    <>
      <h1>Messages</h1>
      <FindById />
      <FilterForm key={query.toString()} filters={filters} />
      <Problem error={list.error} />
      {list.loading && page === undefined && <Loading what="messages" />}
      {page && (
        <>
          <MessageTable messages={page.data} />
          {page.data.length < 50 && page.nextCursor !== null && (
            <p class="muted">This page holds what matched among the records read for it; older ones may match too.</p>
          )}
          <Pager
            first={cursor ? href('/messages', filters) : null}
            next={page.nextCursor ? href('/messages', { ...filters, cursor: page.nextCursor }) : null}
          />
        </>
      )}
    </>
  );
}
