import { headers } from 'nats';
import t from 'tap';
import { eventually, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

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
