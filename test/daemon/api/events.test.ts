import t from 'tap';
import { eventually, json, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

const post = (body: unknown) => json('POST', body);

const INVOICE_PAID = {
  name: 'invoice.paid',
  schema: {
    type: 'object',
    required: ['amount', 'currency'],
    properties: { amount: { type: 'number' }, currency: { type: 'string', minLength: 3 } },
  },
};

t.test(
  'http publish - an event the catalog refuses answers 422 with each schema error and nothing is published; ' +
    'over NATS the same event still ends as a dead letter, with the same reason',
  async (t) => {
    const hooksd = await startInProcess(t, { eventTypes: [INVOICE_PAID] });
    const invalid = await hooksd.api('/v1/events', post({ eventType: 'invoice.paid' }));
    t.match(invalid.body, { code: 'HOOKSD_INVALID_REQUEST', message: /payload/ });
    const badType = await hooksd.api('/v1/events', post({ eventType: 'not a type', payload: {} }));
    t.equal(badType.status, 400);

    const badPayload = await hooksd.api('/v1/events', post({ eventType: 'invoice.paid', payload: { amount: 'lots' } }));
    t.equal(badPayload.status, 422);
    t.match(badPayload.body, {
      code: 'HOOKSD_EVENT_REFUSED',
      message: /^payload does not match the schema of "invoice\.paid": /,
    });
    t.equal(badPayload.body.details.reason, badPayload.body.message);
    t.same(
      [...badPayload.body.details.errors].sort((a: any, b: any) => a.path.localeCompare(b.path)),
      [
        { path: '', message: "must have required property 'currency'" },
        { path: '/amount', message: 'must be number' },
      ],
      'each schema error, with a JSON pointer into the payload',
    );
    const unknown = await hooksd.api('/v1/events', post({ eventType: 'invoice.lost', payload: {} }));
    t.equal(unknown.status, 422);
    t.match(unknown.body, {
      code: 'HOOKSD_EVENT_REFUSED',
      message: /unknown event type "invoice\.lost".*ingest\.unknownTypes: deliver/,
      details: { errors: [] },
    });
    const good = await hooksd.api(
      '/v1/events',
      post({ eventType: 'invoice.paid', payload: { amount: 5, currency: 'EUR' } }),
    );
    t.equal(good.status, 202, 'an event that fits is published');

    // A NATS publisher gets no answer: the same payload is kept as a dead letter, with the reason the API gave.
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.invoice.paid', JSON.stringify({ id: 'over-nats', payload: { amount: 'lots' } }));
    const dead = await eventually(async () => (await hooksd.api('/v1/dead-letters')).body.data[0]);
    t.match(dead, { eventId: 'over-nats', reason: badPayload.body.message });
    // Ingest takes events in order: had a refused body been published before it, it would be in by now.
    t.equal((await hooksd.api('/v1/dead-letters')).body.data.length, 1, 'one dead letter');
    t.same(
      (await hooksd.api('/v1/events')).body.data.map((event: { id: string }) => event.id),
      [good.body.id],
      'one event: the refused bodies were not published',
    );
  },
);

t.test('http publish - with ingest.unknownTypes: deliver, a type outside the catalog is published', async (t) => {
  const hooksd = await startInProcess(t, { eventTypes: [INVOICE_PAID], ingest: { unknownTypes: 'deliver' } });
  const unknown = await hooksd.api('/v1/events', post({ eventType: 'invoice.lost', payload: { any: 'thing' } }));
  t.equal(unknown.status, 202);
  const stored = await eventually(async () => (await hooksd.api('/v1/events')).body.data[0]);
  t.match(stored, { id: unknown.body.id, eventType: 'invoice.lost' });
  const badPayload = await hooksd.api('/v1/events', post({ eventType: 'invoice.paid', payload: {} }));
  t.equal(badPayload.status, 422, 'a type of the catalog is still held to its schema');
});

t.test(
  'pagination - walking /v1/messages over 600 messages while new ones arrive: no duplicates, no gaps',
  async (t) => {
    const receiver = await startReceiver(t);
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'tick' }],
      consumers: [
        { id: 'one', url: receiver.url },
        { id: 'two', url: receiver.url, eventTypes: ['nothing.*'] },
      ],
    });
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        js.publish('events.tick', JSON.stringify({ id: `tick-${i}`, payload: { i } })),
      ),
    );
    await receiver.waitForDistinct(600, 60_000);
    const atStart = new Set<string>();
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const { body }: { body: any } = await hooksd.api(`/v1/messages?limit=250${cursor ? `&cursor=${cursor}` : ''}`);
      body.data.forEach((m: { id: string }) => atStart.add(m.id));
      cursor = body.nextCursor;
    }
    t.equal(
      atStart.size,
      600,
      `every message listed (${receiver.received.length} requests, ${receiver.webhookIds.size} webhook-ids received)`,
    );
    const events = new Set<string>();
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const { body }: { body: any } = await hooksd.api(
        `/v1/events?eventType=tick&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      body.data.forEach((e: { id: string }) => events.add(e.id));
      cursor = body.nextCursor;
    }
    t.equal(events.size, 600, 'the events list walks the same way');

    let publishing = true;
    const more = (async () => {
      for (let i = 0; publishing; i += 1)
        await js.publish('events.tick', JSON.stringify({ id: `late-${i}`, payload: { i } }));
    })();
    const walked: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body }: { body: any } = await hooksd.api(
        `/v1/messages?consumerId=one&limit=50${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...body.data.map((m: { id: string }) => m.id));
      cursor = body.nextCursor;
      pages += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    } while (cursor !== null);
    publishing = false;
    await more;
    t.ok(pages >= 12, `${pages} pages`);
    t.equal(new Set(walked).size, walked.length, 'no message twice');
    t.same(
      [...atStart].filter((id) => !walked.includes(id)),
      [],
      'every message present at the start was listed',
    );
    // The walk raced real arrivals: what was published during it is listed (ingest may lag on a busy machine).
    const newestAtStart = [...atStart].sort().at(-1)!;
    const deadline = Date.now() + 60_000;
    let newest = newestAtStart;
    while (newest <= newestAtStart && Date.now() < deadline) {
      newest = (await hooksd.api('/v1/messages?limit=1')).body.data[0].id;
      if (newest <= newestAtStart) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    t.ok(newest > newestAtStart, 'messages kept arriving during the walk');
  },
);

t.test(
  'http publish - every generatedDate the API takes, ingest takes too: no 202 that ends as a dead letter',
  async (t) => {
    const hooksd = await startInProcess(t, { eventTypes: [{ name: 'invoice.paid' }] });
    const dates = [
      '2024-01-01T00:00:00Z',
      '2024-01-01t00:00:00z',
      '2024-01-01 00:00:00Z',
      '2024-01-01T00:00:00.123+01:00',
    ];
    const ids: string[] = [];
    for (const generatedDate of dates) {
      const { status, body } = await hooksd.api(
        '/v1/events',
        post({ eventType: 'invoice.paid', generatedDate, payload: {} }),
      );
      t.equal(status, 202, `${generatedDate} is taken`);
      ids.push(body.id);
    }
    const stored = await eventually(async () => {
      const { body } = await hooksd.api('/v1/events');
      return body.data.length === dates.length ? body.data : undefined;
    });
    t.same(stored.map((event: { id: string }) => event.id).sort(), [...ids].sort(), 'each became an event');
    t.same((await hooksd.api('/v1/dead-letters')).body.data, [], 'none a dead letter');
  },
);
