import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { useApi, useCan } from '../parts/data.js';
import { Time } from '../parts/format.js';
import { Action, Code, Fields, HeaderTable, Loading, Pager, Problem } from '../parts/ui.js';
import { apiPath, href, param } from '../router.js';
import type { DeadLetter, Message, Page } from '../types.js';

interface Redriven {
  eventId: string;
  duplicate: boolean;
  messages: Message[];
}

function Letter({ letter, admin, changed }: { letter: DeadLetter; admin: boolean; changed: () => void }) {
  const [redriven, setRedriven] = useState<Redriven>();
  return (
    <article class="card letter" aria-label={`Dead letter ${letter.id}`}>
      <h2>{letter.id}</h2>
      <p class="problem-text">{letter.reason}</p>
      <Fields
        rows={[
          ['Received', <Time iso={letter.receivedAt} />],
          ['Subject', letter.subject],
          ['Event type', letter.eventType ?? null],
          ['Event id', letter.eventId ?? null],
          ['Stream sequence', letter.streamSequence === undefined ? null : String(letter.streamSequence)],
          [
            'Redriven',
            letter.redrivenAt ? (
              <span>
                <Time iso={letter.redrivenAt} /> as{' '}
                <a href={href(`/events/${encodeURIComponent(letter.redrivenEventId ?? '')}`)}>
                  {letter.redrivenEventId}
                </a>
              </span>
            ) : null,
          ],
        ]}
      />
      <details>
        <summary>NATS headers</summary>
        <HeaderTable headers={letter.headers} />
      </details>
      <h3>Its bytes {letter.encoding === 'base64' ? '(base64: not UTF-8 text)' : 'as text'}</h3>
      <Code value={letter.data} label="Original bytes" />
      {redriven && (
        <p role="status">
          Ingested as <a href={href(`/events/${encodeURIComponent(redriven.eventId)}`)}>{redriven.eventId}</a>
          {redriven.duplicate ? ' (stored already: no new message)' : `, ${redriven.messages.length} messages`}.
        </p>
      )}
      {admin && !letter.redrivenAt && !redriven && (
        <Action<Redriven>
          label="Redrive"
          run={async () => {
            const result = await post<Redriven>(`/v1/dead-letters/${encodeURIComponent(letter.id)}/redrive`);
            setRedriven(result);
            changed();
            return result;
          }}
        />
      )}
    </article>
  );
}

export function DeadLettersPage({ query }: { query: URLSearchParams }) {
  const cursor = param(query, 'cursor');
  const list = useApi<Page<DeadLetter>>(apiPath('/v1/dead-letters', { cursor, limit: 20 }));
  const admin = useCan('admin');
  return (
    <>
      <h1>Dead letters</h1>
      <p class="hint">Events ingest refused, kept as they came, newest first.</p>
      <Problem error={list.error} />
      {!list.data && !list.error && <Loading what="dead letters" />}
      {list.data && list.data.data.length === 0 && <p class="muted">No dead letters.</p>}
      {list.data?.data.map((letter) => (
        <Letter key={letter.id} letter={letter} admin={admin} changed={list.reload} />
      ))}
      {list.data && (
        <Pager
          first={cursor ? href('/dead-letters') : null}
          next={list.data.nextCursor ? href('/dead-letters', { cursor: list.data.nextCursor }) : null}
        />
      )}
    </>
  );
}
