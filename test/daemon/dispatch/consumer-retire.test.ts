import t from 'tap';
import { eventually, json, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

t.test(
  "consumers - a changed consumer's old connections outlive its own timeout, not only delivery.timeout",
  async (t) => {
    // Answers after 3 s: longer than delivery.timeout (1 s) plus its margin, within the consumer's own 10 s.
    const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 3000 }));
    const { api, nats } = await startInProcess(t, {
      eventTypes: [{ name: 'company.created' }],
      delivery: { timeout: '1s' },
    });
    const consumer = { id: 'slow', url: receiver.url, timeout: '10s', retrySchedule: ['0s'] };
    t.equal((await api('/v1/consumers', json('POST', consumer))).status, 201);
    const js = (await natsClient(t, nats!.url)).jetstream();
    await js.publish('events.company.created', JSON.stringify({ id: 'slow-answer', payload: {} }));
    await receiver.waitFor(1);
    // The change replaces the consumer; the request in flight still uses the replaced one's connections.
    t.equal((await api('/v1/consumers/slow', json('PATCH', { description: 'changed mid-request' }))).status, 200);
    const message = await eventually(async () => {
      const [found] = (await api('/v1/messages?consumerId=slow')).body.data;
      return found?.status === 'sending' ? undefined : found;
    }, 30_000);
    t.equal(message.status, 'success', `the attempt in flight finished (${message.lastError ?? 'no error'})`);
  },
);
