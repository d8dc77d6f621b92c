import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { useApi, useCan } from '../parts/data.js';
import { Time } from '../parts/format.js';
import { MessageTable } from '../parts/message-table.js';
import { Action, Code, Fields, Loading, Problem } from '../parts/ui.js';
import { href } from '../router.js';
import type { Consumer, EventWithMessages, Message, Page } from '../types.js';

interface Replayed {
  eventId: string;
  messages: Message[];
  passedOver: { consumerId: string; reason: string }[];
}

function ReplayResult({ replayed }: { replayed: Replayed }) {
  return (
    <div role="status">
      <p>
        {replayed.messages.length} new message{replayed.messages.length === 1 ? '' : 's'}:
      </p>
      <ul>
        {replayed.messages.map((m) => (
          <li key={m.id}>
            <a href={href(`/messages/${encodeURIComponent(m.id)}`)}>{m.id}</a> to {m.consumerId}
          </li>
        ))}
        {replayed.passedOver.map((p) => (
          <li key={p.consumerId}>
            none to {p.consumerId}: {p.reason}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Replay to every consumer the event matches now, or to those ticked. */
function Replay({ id, done }: { id: string; done: () => void }) {
  const consumers = useApi<Page<Consumer>>('/v1/consumers?limit=250');
  const [chosen, setChosen] = useState<string[]>([]);
  const path = `/v1/events/${encodeURIComponent(id)}/replay`;
  const toggle = (consumerId: string) =>
    setChosen(chosen.includes(consumerId) ? chosen.filter((c) => c !== consumerId) : [...chosen, consumerId]);
  return (
    <section aria-labelledby="replay-heading" class="card">
      <h2 id="replay-heading">Replay</h2>
      <p class="hint">Sends the event again, as new messages.</p>
      <Action<Replayed>
        label="Replay to all"
        confirm="Every consumer that takes this event now gets it again."
        run={() => post<Replayed>(path, {}).then((r) => (done(), r))}
        done={(r) => <ReplayResult replayed={r} />}
      />
      <fieldset>
        <legend>Or to chosen consumers</legend>
        <Problem error={consumers.error} />
        {(consumers.data?.data ?? []).map((c) => (
          <label key={c.id} class="check">
            <input type="checkbox" checked={chosen.includes(c.id)} onChange={() => toggle(c.id)} /> {c.id}
          </label>
        ))}
      </fieldset>
      {chosen.length > 0 && (
        <Action<Replayed>
          label={`Replay to ${chosen.length} chosen`}
          run={() => post<Replayed>(path, { consumerIds: chosen }).then((r) => (done(), r))}
          done={(r) => <ReplayResult replayed={r} />}
        />
      )}
    </section>
  );
}

export function EventPage({ id }: { id: string }) {
  const event = useApi<EventWithMessages>(`/v1/events/${encodeURIComponent(id)}`);
  const admin = useCan('admin');
  const e = event.data;
  return (
    <>
      <p class="crumbs">
        <a href={href('/events')}>Events</a> / event
      </p>
      <h1>{id}</h1>
      <Problem error={event.error} />
      {!e && !event.error && <Loading what="the event" />}
      {e && (
        <>
          <Fields
            rows={[
              ['Type', <a href={href('/events', { eventType: e.eventType })}>{e.eventType}</a>],
              ['Generated', <Time iso={e.generatedDate} />],
              ['Received', <Time iso={e.receivedAt} />],
              ['Subject', e.subject],
            ]}
          />
          <section aria-labelledby="messages-heading">
            <h2 id="messages-heading">Its messages</h2>
            <MessageTable messages={e.messages} hide={['type']} />
          </section>
          {admin && <Replay id={id} done={event.reload} />}
          <section aria-labelledby="envelope-heading">
            <h2 id="envelope-heading">The envelope, as consumers get it</h2>
            <Code value={e.envelope} label="Envelope" />
          </section>
        </>
      )}
    </>
  );
}
