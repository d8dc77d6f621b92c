import t from 'tap';
import { json } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

const post = (body?: unknown) => json('POST', body);

t.test('errors - unknown consumer or task, until before since, bad bodies', async (t) => {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    eventTypes: [{ name: 'order.created' }],
    consumers: [{ id: 'orders', url: receiver.url }],
  });
  const since = '2024-05-01T10:00:00.000Z';

  for (const route of ['recover', 'replay-missing']) {
    const { status, body } = await hooksd.api(`/v1/consumers/nope/${route}`, post({ since }));
    t.equal(status, 404, `${route} for an unknown consumer`);
    t.match(body, { code: 'HOOKSD_NOT_FOUND', message: /nope/ });
  }
  const missing = await hooksd.api('/v1/tasks/task_nope');
  t.equal(missing.status, 404, 'unknown task');
  t.match(missing.body, { code: 'HOOKSD_NOT_FOUND', message: /task_nope/ });

  const reversed = await hooksd.api('/v1/consumers/orders/recover', post({ since, until: '2024-04-30T10:00:00.000Z' }));
  t.equal(reversed.status, 400, 'until before since');
  t.match(reversed.body, { code: 'HOOKSD_INVALID_REQUEST', message: /until/ });

  const bad: [string, unknown][] = [
    ['recover', {}],
    ['recover', { since: 'yesterday' }],
    ['recover', { since, until: 42 }],
    ['recover', { since, extra: true }],
    ['recover', '{"since": '],
    ['recover', undefined],
    ['replay-missing', {}],
    ['replay-missing', { since: 1714557600000 }],
    ['replay-missing', { since, until: since }],
    ['replay-missing', '[]'],
  ];
  for (const [route, body] of bad) {
    const answer = await hooksd.api(`/v1/consumers/orders/${route}`, post(body));
    t.equal(answer.status, 400, `${route} with body ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    t.equal(answer.body?.code, 'HOOKSD_INVALID_REQUEST');
  }
  const { body } = await hooksd.api('/v1/messages?consumerId=orders');
  t.equal(body.data.length, 0, 'no request made a task that sent anything');
  t.equal(receiver.received.length, 0);
});
