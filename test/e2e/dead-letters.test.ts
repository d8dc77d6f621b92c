import t from 'tap';
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders } from 'nats';
import { eventIdOf, settledAfter, startGateway } from '../helpers/gateway.js';
import { eventually } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';

t.test(
  'ingest - refused events land in /v1/dead-letters with the reason, are acked, and delivery carries on',
  async (t) => {
    const receiver = await startReceiver(t);
    const { daemon, nc, js } = await startGateway(t, {
      eventTypes: [
        {
          name: 'connection.created',
          schema: {
            type: 'object',
            required: ['connection'],
            properties: {
              connection: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
            },
          },
        },
      ],
      consumers: [{ id: 'all', url: receiver.url }],
    });
    const good = () => ({ connection: { id: randomUUID() } });

    await js.publish('events.connection.created', 'this is not json');
    await js.publish('events.connection.created', new Uint8Array([0xff, 0xfe, 0x7b]));
    await js.publish('events.billing.closed', JSON.stringify({ id: randomUUID(), payload: {} }));
    await js.publish(
      'events.connection.created',
      JSON.stringify({ id: randomUUID(), payload: { connection: { id: 'not-a-uuid' } } }),
    );
    await js.publish('events.connection.created', JSON.stringify([1, 2]));
    await js.publish('events.connection.created', JSON.stringify({ id: randomUUID() }));
    const valid = randomUUID();
    await js.publish(
      'events.connection.created',
      JSON.stringify({
        id: valid,
        eventType: 'connection.created',
        generatedDate: new Date().toISOString(),
        payload: good(),
      }),
    );

    const letters = await eventually(async () => {
      const { body } = await daemon.api('/v1/dead-letters');
      return body.data.length === 6 ? body.data : undefined;
    });
    const reasons = letters.map((l: any) => l.reason).reverse();
    t.match(reasons[0], /^body is not JSON/);
    t.match(reasons[1], /^body is not valid UTF-8/);
    t.match(reasons[2], /^unknown event type "billing\.closed"/);
    t.match(reasons[3], /^payload does not match the schema of "connection\.created": .*uuid/);
    t.match(reasons[4], /^envelope must be a JSON object/);
    t.match(reasons[5], /^envelope has no "payload"/);
    const [notJson, notUtf8] = letters.slice().reverse();
    t.equal(notJson.data, 'this is not json');
    t.equal(notJson.encoding, 'utf8');
    t.equal(notUtf8.encoding, 'base64');
    t.equal(Buffer.from(notUtf8.data, 'base64').toString('hex'), 'fffe7b', 'non-UTF-8 bodies are kept byte for byte');

    const [delivered] = await receiver.waitFor(1);
    t.equal(JSON.parse(delivered.body.toString()).id, valid, 'the valid event after them was delivered');
    t.equal(receiver.received.length, 1);

    const info = await eventually(async () => {
      const consumer = await (await nc.jetstreamManager()).consumers.info('HOOKS_EVENTS', 'hooksd');
      return consumer.num_ack_pending === 0 && consumer.num_pending === 0 ? consumer : undefined;
    });
    t.equal(info.delivered.stream_seq, 7, 'every message was acked');
    t.equal((await daemon.api('/readyz')).status, 200, 'hooksd keeps running');
  },
);

t.test('ingest - envelope fallbacks: Nats-Msg-Id, type from the subject, publish time', async (t) => {
  const receiver = await startReceiver(t);
  const { daemon, js } = await startGateway(t, {
    ingest: { unknownTypes: 'deliver' },
    consumers: [{ id: 'all', url: receiver.url }],
  });
  const h = natsHeaders();
  h.set('Nats-Msg-Id', 'from-header-1');
  const before = Date.now();
  await js.publish('events.invoices.write.successful', JSON.stringify({ payload: { invoiceId: 'INV-1' } }), {
    headers: h,
  });
  await js.publish('events.company.created', JSON.stringify({ payload: { n: 2 } }));

  const received = await receiver.waitFor(2);
  const [withHeader, bare] = received.map((r) => JSON.parse(r.body.toString()));
  t.equal(withHeader.id, 'from-header-1');
  t.equal(withHeader.eventType, 'invoices.write.successful', 'eventType is the subject without its prefix');
  t.ok(Date.parse(withHeader.generatedDate) >= before - 1000, 'generatedDate is the publish time');
  t.same(withHeader.payload, { invoiceId: 'INV-1' });
  t.match(bare.id, /^evt_/, 'an id is generated when none is given');
  t.equal(bare.eventType, 'company.created');

  const event = await daemon.api('/v1/events/from-header-1');
  t.equal(event.status, 200);
  t.equal(event.body.messages.length, 1);
  t.equal(event.body.messages[0].consumerId, 'all');
  t.equal((await daemon.api('/v1/events/nope')).body.code, 'HOOKSD_NOT_FOUND');
});

t.test('ingest - a redelivered event id is not fanned out twice', async (t) => {
  const receiver = await startReceiver(t);
  const { daemon, nc, js, publish } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'all', url: receiver.url }],
  });
  const id = randomUUID();
  const body = JSON.stringify({
    id,
    eventType: 'company.created',
    generatedDate: new Date().toISOString(),
    payload: {},
  });
  // Published three times without Nats-Msg-Id, so JetStream stores three copies with one id.
  for (let i = 0; i < 3; i++) await js.publish('events.company.created', body);
  // A later event: once it has arrived, every copy was ingested before it, and nothing is left to send.
  const sentinel = await publish('company.created');
  await settledAfter(daemon.api, receiver, sentinel);
  await eventually(async () => {
    const consumer = await (await nc.jetstreamManager()).consumers.info('HOOKS_EVENTS', 'hooksd');
    return consumer.num_ack_pending === 0 && consumer.num_pending === 0 ? true : undefined;
  });
  t.same(receiver.received.map(eventIdOf).sort(), [id, sentinel].sort(), 'delivered once, as the sentinel was');
  t.equal((await daemon.api(`/v1/events/${id}`)).body.messages.length, 1, 'one message for the event');
});
