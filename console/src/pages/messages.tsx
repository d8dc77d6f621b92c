import { useState } from 'preact/hooks';
import { useApi } from '../parts/data.js';
import { fromLocalInput, localInput } from '../parts/format.js';
import { MessageTable } from '../parts/message-table.js';
import { Loading, Pager, Problem } from '../parts/ui.js';
import { apiPath, href, navigate, param } from '../router.js';
import { MESSAGE_STATUSES, type Consumer, type EventType, type Message, type Page } from '../types.js';
import { ChoiceField, FilterButtons, TimeRange } from '../parts/filter-fields.js';

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
      <ChoiceField
        id="f-consumer"
        label="Consumer"
        name="consumerId"
        value={form.consumerId ?? ''}
        options={(consumers.data?.data ?? []).map((c) => c.id)}
        onChange={set('consumerId')}
      />
      <ChoiceField
        id="f-type"
        label="Event type"
        name="eventType"
        value={form.eventType ?? ''}
        options={(types.data?.data ?? []).map((type) => type.name)}
        onChange={set('eventType')}
      />
      <ChoiceField
        id="f-status"
        label="Status"
        name="status"
        value={form.status ?? ''}
        options={MESSAGE_STATUSES}
        onChange={set('status')}
      />
      <TimeRange prefix="f" since={form.since} until={form.until} onSince={set('since')} onUntil={set('until')} />
      <FilterButtons clear={href('/messages')} />
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
