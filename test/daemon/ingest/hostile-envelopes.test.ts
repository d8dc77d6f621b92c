import { headers } from 'nats';
import t from 'tap';
import { eventIdOf } from '../../helpers/gateway.js';
import { eventually, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

const nestedText = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

async function start(t: Parameters<Parameters<typeof t.test>[1]>[0]) {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'c', url: receiver.url }],
  });
  const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
  const deadLetters = (count: number) =>
    eventually(
      async () => {
        const { body } = await hooksd.api('/v1/dead-letters');
        return body.data.length >= count ? body.data : undefined;
      },
      20_000,
      `${count} dead letters`,
    );
  return { receiver, hooksd, js, deadLetters };
}

t.test('ingest - a "__proto__" header is kept on the dead letter like any other header', async (t) => {
  const { js, deadLetters } = await start(t);
  const sent = headers();
  sent.append('__proto__', 'first');
  sent.append('X-Other', 'second');
  await js.publish('events.company.created', 'not json', { headers: sent });
  const [letter] = await deadLetters(1);
  t.ok(Object.hasOwn(letter.headers, '__proto__'), 'the header is an own field of the record');
  t.same(letter.headers.__proto__, ['first']);
  t.same(letter.headers['X-Other'], ['second']);
});

t.test(
  'ingest - an envelope nested 50,000 levels deep is a dead letter; the events beside it still flow',
  async (t) => {
    const { receiver, js, deadLetters } = await start(t);
    // No id, type or date: hooksd would write the envelope again with them, which is where it overflowed.
    await js.publish('events.company.created', `{"payload":${nestedText(50_000)}}`);
    await js.publish('events.company.created', JSON.stringify({ id: 'beside', payload: {} }));
    const [letter] = await deadLetters(1);
    t.equal(letter.reason, 'body nests deeper than 100 levels');
    t.equal(letter.data.length, 100_000 + '{"payload":}'.length, 'the message is kept whole');
    await receiver.waitFor(1, 30_000);
    t.equal(eventIdOf(receiver.received[0]), 'beside', 'the event published after it is delivered');
  },
);

t.test('ingest - 100 levels of nesting are an event, 101 a dead letter', async (t) => {
  const { receiver, js, deadLetters } = await start(t);
  // The envelope object is the first level.
  await js.publish('events.company.created', `{"id":"deep-101","payload":${nestedText(100)}}`);
  await js.publish('events.company.created', `{"id":"deep-100","payload":${nestedText(99)}}`);
  const [letter] = await deadLetters(1);
  t.equal(letter.eventId, undefined);
  t.match(letter.data, /^\{"id":"deep-101"/);
  await receiver.waitFor(1, 30_000);
  t.equal(eventIdOf(receiver.received[0]), 'deep-100');
});

t.test('ingest - a refusal names a wrong value in at most 100 characters', async (t) => {
  const { js, deadLetters } = await start(t);
  await js.publish('events.company.created', JSON.stringify({ eventType: 'no spaces '.repeat(5_000), payload: {} }));
  const [letter] = await deadLetters(1);
  t.match(letter.reason, /^"eventType" must be dot-separated names like "connection.created" \(got "no spaces no/);
  t.ok(letter.reason.length < 200, `the reason is ${letter.reason.length} characters`);
  t.equal(letter.data.length, JSON.stringify({ eventType: 'no spaces '.repeat(5_000), payload: {} }).length);
});

t.test('ingest - an envelope without an id, sent with headers but no Nats-Msg-Id, gets an id of its own', async (t) => {
  const { js, hooksd, receiver } = await start(t);
  const sent = headers();
  sent.append('X-Trace', 'abc');
  // nats.js answers "" for a header that is not there: taken as the id, it made such events dead letters.
  await js.publish('events.company.created', JSON.stringify({ payload: { n: 1 } }), { headers: sent });
  const [delivered] = await receiver.waitFor(1);
  const id = JSON.parse(delivered.body.toString()).id;
  t.match(id, /^evt_[\w-]{22}$/, 'the id derived from its stream position');
  t.equal((await hooksd.api(`/v1/events/${id}`)).status, 200);
  t.same((await hooksd.api('/v1/dead-letters')).body.data, [], 'no dead letter');
});
