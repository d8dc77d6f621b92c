import t from 'tap';
import { eventIdOf, settledAfter, startGateway } from '../helpers/gateway.js';
import { eventually, json, startDaemon } from '../helpers/hooksd.js';
import { startReceiver, startReceivers } from '../helpers/receiver.js';

/** The /metrics text without the `instance` label every series carries. */
const withoutInstance = (text: string) =>
  text
    .replace(/,?instance="[^"]*"/g, '')
    .replace(/\{\}/g, '')
    .replace(/\{,/g, '{');

/** The value of the series `name` with no label but `instance`. */
function metric(text: string, name: string): number {
  const line = withoutInstance(text)
    .split('\n')
    .find((l) => l.startsWith(name + ' '));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test(
  'http publish - POST /v1/events takes the NATS ingest path; a repeated Idempotency-Key publishes nothing new',
  async (t) => {
    const receiver = await startReceiver(t);
    const { daemon } = await startGateway(t, {
      eventTypes: [
        {
          name: 'invoice.paid',
          schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } },
        },
      ],
      consumers: [{ id: 'books', url: receiver.url }],
    });

    const first = await daemon.api(
      '/v1/events',
      json('POST', { eventType: 'invoice.paid', payload: { amount: 12 } }, { 'idempotency-key': 'order-42' }),
    );
    t.equal(first.status, 202);
    t.match(first.body, { id: /^[0-9a-f-]{36}$/, subject: 'events.invoice.paid', duplicate: false });
    const again = await daemon.api(
      '/v1/events',
      json('POST', { eventType: 'invoice.paid', payload: { amount: 12 } }, { 'idempotency-key': 'order-42' }),
    );
    t.equal(again.status, 202);
    t.equal(again.body.id, first.body.id, 'the same key gives the same id');
    t.equal(again.body.duplicate, true, 'NATS recognised the duplicate');
    const other = await daemon.api(
      '/v1/events',
      json('POST', { id: 'inv-7', eventType: 'invoice.paid', payload: { amount: 3 } }),
    );
    t.equal(other.body.id, 'inv-7', 'an id in the body is kept');

    await receiver.waitFor(2);
    const stored = await eventually(async () => {
      const { body } = await daemon.api('/v1/events?eventType=invoice.paid');
      return body.data.length === 2 ? body.data : undefined;
    });
    t.same(
      stored.map((e: { id: string }) => e.id).sort(),
      [first.body.id, 'inv-7'].sort(),
      'one event per key, no second one',
    );
    // One more event after those two: once it has arrived, and nothing is left to send, a
    // second delivery of either would have arrived too.
    const sentinel = await daemon.api(
      '/v1/events',
      json('POST', { eventType: 'invoice.paid', payload: { amount: 1 } }),
    );
    await settledAfter(daemon.api, receiver, sentinel.body.id);
    t.same(
      receiver.received.map(eventIdOf).sort(),
      [first.body.id, 'inv-7', sentinel.body.id].sort(),
      'and one delivery each',
    );
  },
);

t.test(
  'replay - POST /v1/events/:id/replay sends the event again as new messages, to all or to the chosen consumers',
  async (t) => {
    const [a, b] = await startReceivers(t, 2);
    const { daemon, publish } = await startGateway(t, {
      eventTypes: [{ name: 'user.created' }, { name: 'user.deleted' }],
      consumers: [
        { id: 'a', url: a.url },
        { id: 'b', url: b.url },
        { id: 'deletes-only', url: b.url, eventTypes: ['user.deleted'] },
      ],
    });
    const id = await publish('user.created', { n: 1 });
    const [original] = await a.waitFor(1);
    await b.waitFor(1);

    const all = await daemon.api(`/v1/events/${id}/replay`, json('POST', {}));
    t.equal(all.status, 202);
    t.same(
      all.body.messages.map((m: { consumerId: string }) => m.consumerId).sort(),
      ['a', 'b'],
      'every consumer it matches now',
    );
    const [, replayed] = await a.waitFor(2);
    t.not(replayed.headers['webhook-id'], original.headers['webhook-id'], 'a new message, so a new webhook-id');
    t.equal(replayed.body.toString(), original.body.toString(), 'the same envelope');

    const chosen = await daemon.api(`/v1/events/${id}/replay`, json('POST', { consumerIds: ['b', 'deletes-only'] }));
    t.same(
      chosen.body.messages.map((m: { consumerId: string }) => m.consumerId),
      ['b'],
    );
    t.match(chosen.body.passedOver, [{ consumerId: 'deletes-only', reason: /not subscribed/ }]);
    await b.waitFor(3);
    t.equal(a.received.length, 2, 'a was not chosen');
    const unknown = await daemon.api(`/v1/events/${id}/replay`, json('POST', { consumerIds: ['ghost'] }));
    t.same([unknown.status, unknown.body.code], [404, 'HOOKSD_NOT_FOUND']);
    const event = await daemon.api(`/v1/events/${id}`);
    t.equal(event.body.messages.length, 5, 'the original two and three replays, all listed with the event');
  },
);

t.test(
  'metrics - /metrics counts ingest, dead letters, attempts by consumer and outcome, latency, retries, NATS lag',
  async (t) => {
    const ok = await startReceiver(t);
    const failing = await startReceiver(t, () => ({ status: 500 }));
    const { daemon, js, configFile } = await startGateway(t, {
      server: { auth: { tokens: [{ name: 'prom', token: 'scrape-token-0123456789', scopes: ['read'] }] } },
      eventTypes: [{ name: 'job.done' }],
      consumers: [
        { id: 'ok', url: ok.url },
        { id: 'failing', url: failing.url, retrySchedule: ['0s', '1h'] },
      ],
    });
    for (let i = 0; i < 5; i += 1) await js.publish('events.job.done', JSON.stringify({ payload: { i } }));
    await js.publish('events.job.done', 'not json');
    await ok.waitFor(5);
    await failing.waitFor(5);
    const scrape = async () => {
      const res = await fetch(`${daemon.url}/metrics`, {
        headers: { authorization: 'Bearer scrape-token-0123456789' },
      });
      t.equal(res.status, 200);
      t.match(res.headers.get('content-type'), /^text\/plain/);
      return res.text();
    };
    const text = await eventually(async () => {
      const body = await scrape();
      return metric(body, 'hooksd_retries_pending') === 5 ? withoutInstance(body) : undefined;
    });
    t.equal(metric(text, 'hooksd_events_ingested_total'), 5);
    t.equal(metric(text, 'hooksd_dead_letters_total'), 1);
    t.match(text, /hooksd_attempts_total\{consumer="ok",outcome="success"\} 5/);
    t.match(text, /hooksd_attempts_total\{consumer="failing",outcome="failure"\} 5/);
    t.match(text, /hooksd_messages_total\{status="sending"\} 10/);
    t.match(text, /hooksd_messages_total\{status="success"\} 5/);
    t.match(text, /hooksd_messages_total\{status="attempting"\} 5/);
    t.equal(metric(text, 'hooksd_delivery_latency_seconds_count'), 5);
    t.match(text, /hooksd_attempt_duration_seconds_count\{consumer="failing"\} 5/);
    t.equal(metric(text, 'hooksd_nats_pending_messages'), 0);
    t.match(text, /# TYPE hooksd_sweeper_lag_seconds gauge/);
    const denied = await fetch(`${daemon.url}/metrics`);
    t.equal(denied.status, 401, 'metrics need a read token when tokens are configured');

    await daemon.stop();
    const restarted = await startDaemon(t, configFile);
    const after = await eventually(async () => {
      const res = await fetch(`${restarted.url}/metrics`, {
        headers: { authorization: 'Bearer scrape-token-0123456789' },
      });
      const body = await res.text();
      return Number.isNaN(metric(body, 'hooksd_retries_pending')) ? undefined : body;
    });
    t.equal(metric(after, 'hooksd_retries_pending'), 5, 'pending retries are counted from the store after a restart');
  },
);
