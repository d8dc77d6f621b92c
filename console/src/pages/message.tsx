import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { followAttempts, post } from '../api.js';
import { TimingBar } from '../parts/charts.js';
import { useApi, useCan, useEvery } from '../parts/data.js';
import { ms, Time } from '../parts/format.js';
import { Action, Code, Fields, HeaderTable, Loading, Problem, Status } from '../parts/ui.js';
import { href } from '../router.js';
import type { Attempt, EventRecord, Message, Page } from '../types.js';

function AttemptCard({ attempt, open }: { attempt: Attempt; open: boolean }) {
  const answer = attempt.response ? `${attempt.response.statusCode}` : (attempt.errorClass ?? 'no answer');
  return (
    <article class={`attempt attempt-${attempt.outcome}`} aria-label={`Attempt ${attempt.attempt}`}>
      <h3>
        Attempt {attempt.attempt} <span class="sub">{attempt.trigger}</span> <Status status={attempt.outcome} />{' '}
        <span class="answer">{answer}</span> <span class="sub">{ms(attempt.durationMs)}</span>
      </h3>
      <p class="sub">
        <Time iso={attempt.startedAt} />
      </p>
      {(attempt.errorClass || attempt.error) && (
        <p class="error-text">
          {attempt.errorClass && <strong class="error-class">{attempt.errorClass}</strong>} {attempt.error ?? ''}
        </p>
      )}
      <TimingBar timings={attempt.timings} durationMs={attempt.durationMs} />
      <details open={open}>
        <summary>Request</summary>
        <p class="url">
          {attempt.request.method} {attempt.request.url}
        </p>
        <HeaderTable headers={attempt.request.headers} />
        {attempt.request.body === undefined ? (
          <p class="muted">The body is no longer stored.</p>
        ) : (
          <Code value={attempt.request.body} label="Request body" />
        )}
      </details>
      <details open={open}>
        <summary>Response</summary>
        {attempt.response ? (
          <>
            <p>Status {attempt.response.statusCode}</p>
            <HeaderTable headers={attempt.response.headers} />
            <Code value={attempt.response.body} label="Response body" />
            {attempt.response.truncated && <p class="muted">Cut at delivery.maxResponseBytes.</p>}
          </>
        ) : (
          <p class="muted">No answer came.</p>
        )}
      </details>
    </article>
  );
}

export function MessagePage({ id }: { id: string }) {
  const base = `/v1/messages/${encodeURIComponent(id)}`;
  const message = useApi<Message>(base);
  const attempts = useApi<Page<Attempt>>(`${base}/attempts?limit=50`);
  const eventId = message.data?.eventId;
  const event = useApi<EventRecord>(eventId ? `/v1/events/${encodeURIComponent(eventId)}` : null);
  const admin = useCan('admin');
  const reload = useCallback(() => {
    message.reload();
    attempts.reload();
  }, [message.reload, attempts.reload]);

  // After a resend, read again until its attempt shows (the live feed below usually says so first).
  const [awaiting, setAwaiting] = useState<number>();
  const shown = attempts.data?.data.length;
  useEffect(() => {
    if (awaiting !== undefined && shown !== undefined && shown > awaiting) setAwaiting(undefined);
  }, [awaiting, shown]);
  useEvery(1000, awaiting !== undefined, reload);

  const consumerId = message.data?.consumerId;
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => {
    if (!consumerId) return undefined;
    const abort = new AbortController();
    followAttempts(
      `?consumerId=${encodeURIComponent(consumerId)}`,
      (attempt) => {
        if (attempt.messageId === id) latest.current();
      },
      abort.signal,
    ).catch(() => undefined);
    return () => abort.abort();
  }, [consumerId, id]);

  const m = message.data;
  const pending = m && m.nextAttemptAt !== null && (m.status === 'sending' || m.status === 'attempting');
  return (
    <>
      <p class="crumbs">
        <a href={href('/messages')}>Messages</a> / message
      </p>
      <h1>{id}</h1>
      <Problem error={message.error} />
      {!m && !message.error && <Loading what="the message" />}
      {m && (
        <>
          <Fields
            rows={[
              ['Status', <Status status={m.status} />],
              ['Consumer', <a href={href(`/consumers/${encodeURIComponent(m.consumerId)}`)}>{m.consumerId}</a>],
              ['Event', <a href={href(`/events/${encodeURIComponent(m.eventId)}`)}>{m.eventId}</a>],
              ['Event type', m.eventType],
              ['Created', <Time iso={m.createdAt} />],
              ['Updated', <Time iso={m.updatedAt} />],
              ['Attempts', `${m.attempts}${m.manualAttempts ? ` (${m.manualAttempts} manual)` : ''}`],
              ['Next attempt', m.nextAttemptAt ? <Time iso={m.nextAttemptAt} /> : null],
              ['Last answer', m.lastStatusCode === undefined ? null : String(m.lastStatusCode)],
              ['Last error', m.lastError ? <span class="error-text">{m.lastError}</span> : null],
              ['Cancelled', m.cancelledAt ? <span>{m.cancelReason ?? ''}</span> : null],
            ]}
          />
          {admin && (
            <div class="actions">
              <Action<{ messageId: string }>
                label="Resend"
                kind="primary"
                run={async () => {
                  const before = attempts.data?.data.length ?? 0;
                  const resent = await post<{ messageId: string }>(`${base}/resend`);
                  setAwaiting(before);
                  return resent;
                }}
                done={() => <span role="status">Resend queued: its attempt shows below.</span>}
              />
              {pending && (
                <Action
                  label="Cancel retries"
                  kind="danger"
                  confirm="Its scheduled attempts will not be made."
                  run={() => post(`${base}/cancel`, { reason: 'cancelled in the console' }).then(reload)}
                />
              )}
            </div>
          )}
        </>
      )}
      <section aria-labelledby="attempts-heading">
        <h2 id="attempts-heading">Attempts, newest first</h2>
        <Problem error={attempts.error} />
        {attempts.data && attempts.data.data.length === 0 && <p class="muted">No attempt yet.</p>}
        {attempts.data?.data.map((attempt, i) => (
          <AttemptCard key={`${attempt.attempt}-${attempt.startedAt}`} attempt={attempt} open={i === 0} />
        ))}
      </section>
      <section aria-labelledby="envelope-heading">
        <h2 id="envelope-heading">The event's envelope</h2>
        <Problem error={event.error} />
        {event.data && <Code value={event.data.envelope} label="Envelope" />}
      </section>
    </>
  );
}
