import { useEffect, useState } from 'preact/hooks';
import { ApiError, followAttempts, type LiveAttempt } from '../api.js';
import { LatencyChart, RateChart } from '../parts/charts.js';
import { useApi, useCan, useEvery } from '../parts/data.js';
import { count, duration, ms, percent, rate, Time } from '../parts/format.js';
import { MessageTable } from '../parts/message-table.js';
import { Code, Fields, Loading, Problem, Status } from '../parts/ui.js';
import { href } from '../router.js';
import type { Consumer, ConsumerStats, Message, Page } from '../types.js';
import { ConsumerActions } from './consumer-actions.js';
import { LastErrorText } from './overview.js';

function Settings({ consumer }: { consumer: Consumer }) {
  return (
    <Fields
      rows={[
        ['URL', <span class="url">{consumer.url}</span>],
        ['Description', consumer.description || null],
        ['Source', consumer.source === 'yaml' ? 'config file (hooks.config.yaml)' : 'API'],
        [
          'State',
          consumer.disabled
            ? `disabled${consumer.disabledReason ? `: ${consumer.disabledReason}` : ''}`
            : consumer.failingSince
              ? 'enabled, failing'
              : 'enabled',
        ],
        ['Failing since', consumer.failingSince ? <Time iso={consumer.failingSince} /> : null],
        ['Event types', consumer.eventTypes.join(', ')],
        [
          'Filter',
          consumer.filter ? <Code value={consumer.filter} label="Filter" /> : 'none: every event of its types',
        ],
        ['Transform', consumer.transform === null ? 'none' : <span class="url">{consumer.transform}</span>],
        ['Headers added', consumer.headers.length > 0 ? consumer.headers.join(', ') : 'none'],
        ['Rate limit', consumer.rateLimit === null ? 'none' : `${consumer.rateLimit} per second`],
        ['Concurrency', String(consumer.concurrency)],
        ['Timeout', ms(consumer.timeoutMs)],
        ['Retry schedule', consumer.retryScheduleMs.map(duration).join(', ')],
        ['Signing secrets', `${consumer.activeSecrets} active (never shown here)`],
      ]}
    />
  );
}

function Charts({ id }: { id: string }) {
  const stats = useApi<ConsumerStats>(`/v1/consumers/${encodeURIComponent(id)}/stats?window=1h&step=1m`);
  useEvery(15_000, true, stats.reload);
  if (stats.error instanceof ApiError && stats.error.status === 404 && stats.error.code === 'HOOKSD_ROUTE_NOT_FOUND')
    return <p class="muted">This hooksd has no statistics route.</p>;
  if (stats.error) return <Problem error={stats.error} />;
  if (!stats.data) return <Loading what="statistics" />;
  const { totals, steps, step } = stats.data;
  return (
    <>
      <Fields
        rows={[
          ['Delivered', count(totals.success)],
          ['Failed', count(totals.failure)],
          ['Success', percent(totals.successRatio)],
          ['Per minute', rate(totals.perMinute)],
          ['p50 / p95', `${ms(totals.p50Ms)} / ${ms(totals.p95Ms)}`],
          ['Pending retries', count(stats.data.pending)],
          ['Last error', <LastErrorText error={stats.data.lastError} />],
        ]}
      />
      <div class="charts">
        <RateChart steps={steps} step={step} />
        <LatencyChart steps={steps} />
      </div>
    </>
  );
}

/** The consumer's attempts as they happen (`GET /v1/attempts/live`), newest first. */
function LiveAttempts({ id, seen }: { id: string; seen: () => void }) {
  const [attempts, setAttempts] = useState<LiveAttempt[]>([]);
  useEffect(() => {
    const abort = new AbortController();
    followAttempts(
      `?consumerId=${encodeURIComponent(id)}`,
      (attempt) => {
        setAttempts((before) => [attempt, ...before].slice(0, 10));
        seen();
      },
      abort.signal,
    ).catch(() => undefined);
    return () => abort.abort();
  }, [id, seen]);
  return (
    <section aria-labelledby="live-heading">
      <h2 id="live-heading">Live attempts</h2>
      {attempts.length === 0 ? (
        <p class="muted">Waiting for attempts… (shown as they happen)</p>
      ) : (
        <ul class="live" aria-live="polite">
          {attempts.map((a, i) => (
            <li key={`${a.messageId}-${a.at}-${i}`}>
              <Time iso={a.at} /> <Status status={a.outcome} />{' '}
              <a href={href(`/messages/${encodeURIComponent(a.messageId)}`)}>{a.messageId}</a> {a.eventType}{' '}
              {a.statusCode ?? a.errorClass ?? ''} {ms(a.durationMs)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ConsumerPage({ id }: { id: string }) {
  const consumer = useApi<Consumer>(`/v1/consumers/${encodeURIComponent(id)}`);
  const messages = useApi<Page<Message>>(`/v1/messages?consumerId=${encodeURIComponent(id)}&limit=20`);
  const admin = useCan('admin');
  return (
    <>
      <p class="crumbs">
        <a href={href('')}>Overview</a> / consumer
      </p>
      <h1>{id}</h1>
      <Problem error={consumer.error} />
      {consumer.data === undefined && !consumer.error && <Loading what="the consumer" />}
      {consumer.data && (
        <>
          <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">Settings</h2>
            <Settings consumer={consumer.data} />
          </section>
          <section aria-labelledby="stats-heading">
            <h2 id="stats-heading">Last hour</h2>
            <Charts id={id} />
          </section>
          {admin && <ConsumerActions consumer={consumer.data} changed={consumer.reload} />}
          <LiveAttempts id={id} seen={messages.reload} />
          <section aria-labelledby="messages-heading">
            <h2 id="messages-heading">Its latest messages</h2>
            <Problem error={messages.error} />
            {messages.data && <MessageTable messages={messages.data.data} hide={['consumer']} />}
            <p>
              <a href={href('/messages', { consumerId: id })}>All its messages, with filters →</a>
            </p>
          </section>
        </>
      )}
    </>
  );
}
