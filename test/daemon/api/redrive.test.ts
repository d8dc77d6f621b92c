import t from 'tap';
import { eventually, json, natsClient } from '../../helpers/hooksd.js';
import { startInProcess, type InProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ORDER_PLACED = {
  name: 'order.placed',
  schema: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } },
};

/** Changes the catalog as an operator does, in the config file, and reloads. */
const setCatalog = (hooksd: InProcess, eventTypes: unknown[]) =>
  hooksd.reconfigure((config) => ({ ...config, eventTypes }));

async function deadLetters(hooksd: InProcess, count: number): Promise<any[]> {
  return eventually(
    async () => {
      const { data } = (await hooksd.api('/v1/dead-letters')).body;
      return data.length === count ? data : undefined;
    },
    30_000,
    `${count} dead letters`,
  );
}

const redrive = (hooksd: InProcess, id: string) => hooksd.api(`/v1/dead-letters/${id}/redrive`, json('POST'));

t.test(
  'redrive - once the catalog takes them, dead letters become events with their messages, delivered; ' +
    'still refused ones answer 422 with the reason',
  async (t) => {
    const receiver = await startReceiver(t);
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'other.thing' }],
      consumers: [{ id: 'shop', url: receiver.url, eventTypes: ['order.*'] }],
    });
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.order.placed', JSON.stringify({ id: 'order-1', payload: { total: 5 } }));
    await js.publish('events.order.placed', JSON.stringify({ payload: { total: 7 } }));
    await js.publish('events.order.placed', JSON.stringify({ id: 'order-bad', payload: { total: 'lots' } }));
    await js.publish('events.order.placed', 'not json');
    const [notJson, badPayload, noId, first] = await deadLetters(hooksd, 4);
    t.match(first, { eventId: 'order-1', reason: /unknown event type "order\.placed"/ });
    t.match(noId.eventId, /^evt_/, 'ingest gave the envelope without an id one from its stream position');

    const early = await redrive(hooksd, first.id);
    t.same([early.status, early.body.code], [422, 'HOOKSD_EVENT_REFUSED'], 'not while the type is unknown');
    t.match(early.body.message, /^still refused: unknown event type "order\.placed"/);
    t.same((await hooksd.api('/v1/dead-letters')).body.data[3], first, 'and the dead letter is unchanged');

    await setCatalog(hooksd, [{ name: 'other.thing' }, ORDER_PLACED]);
    const redriven = await redrive(hooksd, first.id);
    t.equal(redriven.status, 202);
    t.match(redriven.body, {
      eventId: 'order-1',
      duplicate: false,
      deadLetter: { id: first.id, reason: first.reason, redrivenEventId: 'order-1' },
      messages: [{ eventId: 'order-1', consumerId: 'shop', eventType: 'order.placed' }],
    });
    t.match(redriven.body.deadLetter.redrivenAt, ISO_MS);
    const [delivered] = await receiver.waitFor(1, 30_000);
    t.match(JSON.parse(delivered.body.toString()), { id: 'order-1', eventType: 'order.placed', payload: { total: 5 } });
    const event = await eventually(async () => {
      const { body } = await hooksd.api('/v1/events/order-1');
      return body.messages?.[0]?.status === 'success' ? body : undefined;
    });
    t.match(event, { subject: 'events.order.placed', envelope: { id: 'order-1', payload: { total: 5 } } });
    t.same(
      (await hooksd.api('/v1/dead-letters')).body.data.find((d: { id: string }) => d.id === first.id),
      redriven.body.deadLetter,
      'the dead letter records when, and as which event',
    );
    t.match(
      hooksd.logs().find((line) => line.msg === 'dead letter redriven: event ingested'),
      { deadLetterId: first.id, eventId: 'order-1', messages: 1 },
    );

    const twice = await redrive(hooksd, first.id);
    t.same([twice.status, twice.body.code], [409, 'HOOKSD_DEAD_LETTER_REDRIVEN']);
    t.same(twice.body.details, { eventId: 'order-1' });

    const derived = await redrive(hooksd, noId.id);
    t.same([derived.status, derived.body.eventId], [202, noId.eventId], 'the id ingest gave it, so a repeat is known');

    const stillBad = await redrive(hooksd, badPayload.id);
    t.same([stillBad.status, stillBad.body.code], [422, 'HOOKSD_EVENT_REFUSED']);
    t.match(stillBad.body.message, /^still refused: payload does not match the schema of "order\.placed"/);
    t.same(stillBad.body.details.errors, [{ path: '/total', message: 'must be number' }]);
    const unreadable = await redrive(hooksd, notJson.id);
    t.match(unreadable.body, { code: 'HOOKSD_EVENT_REFUSED', message: /^still refused: body is not JSON/ });
    t.same(unreadable.body.details.errors, []);
    t.equal((await redrive(hooksd, 'dlq_nope')).body.code, 'HOOKSD_NOT_FOUND');

    await receiver.waitFor(2, 30_000);
    t.same(
      receiver.received.map((request) => JSON.parse(request.body.toString()).payload.total).sort(),
      [5, 7],
      'the two redriven events were delivered, nothing else',
    );
  },
);

t.test('redrive - an event that came in under the same id meanwhile is not made twice', async (t) => {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    eventTypes: [ORDER_PLACED],
    consumers: [{ id: 'shop', url: receiver.url }],
  });
  const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
  await js.publish('events.order.placed', JSON.stringify({ id: 'order-9', payload: { total: 'nine' } }));
  const [dead] = await deadLetters(hooksd, 1);
  // The publisher fixed its payload and sent the event again.
  await js.publish('events.order.placed', JSON.stringify({ id: 'order-9', payload: { total: 9 } }));
  await receiver.waitFor(1, 30_000);
  // Then the schema is loosened, and the old dead letter redriven.
  await setCatalog(hooksd, [{ name: 'order.placed' }]);
  const redriven = await redrive(hooksd, dead.id);
  t.equal(redriven.status, 202);
  t.match(redriven.body, {
    eventId: 'order-9',
    duplicate: true,
    messages: [],
    deadLetter: { redrivenEventId: 'order-9' },
  });
  t.equal((await hooksd.api('/v1/events/order-9')).body.messages.length, 1, 'the event keeps its one message');
  t.equal((await hooksd.api('/v1/events')).body.data.length, 1, 'and is stored once');
  t.equal(receiver.received.length, 1, 'delivered once');
});
