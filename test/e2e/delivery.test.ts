import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { eventIdOf, settledAfter, startGateway } from '../helpers/gateway.js';
import { startReceiver, startReceivers, type Received } from '../helpers/receiver.js';

const EVENTS = 500;

t.test('delivery - 500 published events reach each matching consumer once, byte for byte, signed', async (t) => {
  const [connections, everything, companies] = await startReceivers(t, 3);
  const secrets = { connections: generateSecret(), everything: generateSecret() };
  const { daemon, js, publish } = await startGateway(t, {
    eventTypes: [
      {
        name: 'connection.created',
        schema: { type: 'object', required: ['connection'], properties: { connection: { type: 'object' } } },
      },
      { name: 'read.completed' },
      { name: 'company.created' },
    ],
    consumers: [
      {
        id: 'connections',
        url: connections.url + '/hook',
        eventTypes: ['connection.*'],
        secret: secrets.connections,
        headers: { Authorization: 'Bearer receiver-token' },
      },
      { id: 'everything', url: everything.url + '/all', eventTypes: ['*'], secret: secrets.everything },
      { id: 'companies', url: companies.url, eventTypes: ['company.created'] },
    ],
  });

  const published = new Map<string, string>();
  for (let i = 0; i < EVENTS; i++) {
    const id = randomUUID();
    const eventType = i % 2 === 0 ? 'connection.created' : 'read.completed';
    const body = JSON.stringify({
      id,
      eventType,
      generatedDate: new Date().toISOString(),
      payload: { connection: { id: `c${i}` }, n: i, note: 'é ✓' },
    });
    published.set(id, body);
    await js.publish(`events.${eventType}`, body);
  }

  await connections.waitFor(EVENTS / 2, 60_000);
  await everything.waitFor(EVENTS, 60_000);
  // Stragglers (duplicates, misrouted events) would have arrived by the time a later event has,
  // once nothing is left to send. It is a company event: it goes to `everything` and `companies`.
  const sentinel = await publish('company.created');
  await settledAfter(daemon.api, companies, sentinel, 60_000);
  const withoutSentinel = (received: Received[]) => received.filter((r) => eventIdOf(r) !== sentinel);
  t.equal(eventIdOf(everything.received.at(-1)!), sentinel, 'the * consumer got the sentinel last');
  t.same(companies.received.map(eventIdOf), [sentinel], 'a consumer subscribed to other types got only the sentinel');
  const connectionRequests = withoutSentinel(connections.received);
  const everythingRequests = withoutSentinel(everything.received);

  const check = (received: Received[], eventType: RegExp | null, verify: (r: Received) => unknown) => {
    const seen = new Set<string>();
    for (const r of received) {
      const text = r.body.toString('utf8');
      const envelope = JSON.parse(text);
      t.notOk(seen.has(envelope.id), `event ${envelope.id} arrived once`);
      seen.add(envelope.id);
      if (published.get(envelope.id) !== text) t.fail(`body of ${envelope.id} differs from the published bytes`);
      if (eventType && !eventType.test(envelope.eventType)) t.fail(`unexpected type ${envelope.eventType}`);
      verify(r);
    }
    return seen;
  };

  t.equal(connectionRequests.length, EVENTS / 2, 'connection.* consumer got exactly the connection events');
  t.equal(everythingRequests.length, EVENTS, 'the * consumer got every event');

  const first = connectionRequests[0];
  t.equal(first.method, 'POST');
  t.equal(first.path, '/hook');
  t.equal(first.headers['content-type'], 'application/json');
  t.equal(first.headers.authorization, 'Bearer receiver-token', 'custom headers are sent');
  t.match(first.headers['webhook-id'], /^msg_[0-9a-z]+$/);
  t.ok(
    Math.abs(Number(first.headers['webhook-timestamp']) - Date.now() / 1000) < 60,
    'webhook-timestamp is the current Unix time in seconds',
  );
  t.match(first.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);

  const standard = new StandardWebhook(secrets.connections);
  const svix = new SvixWebhook(secrets.everything);
  let verified = 0;
  const a = check(connectionRequests, /^connection\./, (r) => {
    standard.verify(r.body.toString('utf8'), r.headers as Record<string, string>);
    verified += 1;
  });
  const b = check(everythingRequests, null, (r) => {
    svix.verify(r.body.toString('utf8'), r.headers as Record<string, string>);
    verified += 1;
  });
  t.equal(verified, EVENTS * 1.5, 'every delivery verifies with standardwebhooks or svix, unchanged');
  t.equal(a.size, EVENTS / 2);
  t.equal(b.size, EVENTS);
  const ids = new Set([...connectionRequests, ...everythingRequests].map((r) => r.headers['webhook-id']));
  t.equal(ids.size, EVENTS * 1.5, 'one webhook-id per (event, consumer)');

  const success = await daemon.api(`/v1/messages?status=success&limit=250`);
  t.equal(success.body.data.length, 250);
  t.type(success.body.nextCursor, 'string', 'more pages follow');
});

t.test(
  'delivery - more due messages than a lane holds are fetched as the lane drains, not at the next scheduled sweep',
  async (t) => {
    // Slow enough answers that ingest outruns delivery and the lane (1,000 jobs) overflows into the store.
    const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 5 }));
    const { js } = await startGateway(t, {
      eventTypes: [{ name: 'bulk.sent' }],
      consumers: [{ id: 'bulk', url: receiver.url, concurrency: 8 }],
      delivery: { network: { allowCidrs: ['127.0.0.0/8'] }, sweepSchedule: '0 0 * * * *' },
    });
    await Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        js.publish('events.bulk.sent', JSON.stringify({ id: `bulk-${i}`, payload: {} })),
      ),
    );
    // With sweeps only on the hour, the 2,000 that did not fit would wait for it.
    const received = await receiver.waitFor(3000, 60_000);
    t.equal(
      new Set(received.map((r) => r.headers['webhook-id'])).size,
      3000,
      'all 3,000 delivered, each once, long before the next scheduled sweep',
    );
  },
);
