import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startGateway } from '../helpers/gateway.js';
import { eventually, startDaemon, PIPELINE_WITHOUT_JITTER } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';

const envelope = (eventType: string, payload: unknown = {}) => {
  const id = randomUUID();
  return { id, body: JSON.stringify({ id, eventType, generatedDate: new Date().toISOString(), payload }) };
};

t.test('retry schedule - a consumer answering 500, 500, 200 gets three attempts with one webhook-id', async (t) => {
  const receiver = await startReceiver(t, (_r, index) => ({
    status: index < 2 ? 500 : 200,
    body: index < 2 ? 'try later' : 'ok',
  }));
  const { daemon, js } = await startGateway(t, {
    eventTypes: [{ name: 'read.completed' }],
    pipeline: PIPELINE_WITHOUT_JITTER,
    consumers: [
      { id: 'flaky', url: receiver.url, eventTypes: ['read.completed'], retrySchedule: ['0s', '200ms', '400ms'] },
    ],
  });
  const event = envelope('read.completed', { dataType: 'invoices' });
  await js.publish('events.read.completed', event.body);

  const received = await receiver.waitFor(3);
  t.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 1, 'every attempt carries the same webhook-id');
  t.ok(received[1].at - received[0].at >= 180, 'second attempt waited for the 200ms delay');
  t.ok(received[2].at - received[1].at >= 380, 'third attempt waited for the 400ms delay');

  const message = await eventually(async () => {
    const { body } = await daemon.api(`/v1/messages?consumerId=flaky`);
    return body.data[0]?.status === 'success' ? body.data[0] : undefined;
  });
  t.equal(message.attempts, 3);
  t.equal(message.nextAttemptAt, null);
  t.equal(message.id, received[0].headers['webhook-id']);

  const { status, body } = await daemon.api(`/v1/messages/${message.id}/attempts`);
  t.equal(status, 200);
  t.same(
    body.data.map((a: any) => [a.attempt, a.outcome, a.response.statusCode, a.trigger]),
    [
      [3, 'success', 200, 'scheduled'],
      [2, 'failure', 500, 'scheduled'],
      [1, 'failure', 500, 'scheduled'],
    ],
    'three attempts, newest first',
  );
  for (const attempt of body.data) {
    t.equal(
      attempt.request.headers['webhook-id'],
      message.id,
      `attempt ${attempt.attempt} recorded the same webhook-id`,
    );
    t.equal(attempt.request.body, event.body);
    t.type(attempt.timings.total, 'number', 'got phase timings are recorded');
  }
  t.equal(body.data[2].errorClass, 'http');
  t.equal(body.data[2].response.body, 'try later');
});

t.test('retry schedule - a consumer that never succeeds ends in failure after the last attempt', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 503 }));
  const { daemon, js } = await startGateway(t, {
    eventTypes: [{ name: 'read.completed' }],
    consumers: [{ id: 'down', url: receiver.url, retrySchedule: ['0s', '100ms'] }],
  });
  await js.publish('events.read.completed', envelope('read.completed').body);
  const message = await eventually(async () => {
    const { body } = await daemon.api(`/v1/messages?status=failure`);
    return body.data[0];
  });
  t.equal(message.attempts, 2);
  t.equal(message.lastStatusCode, 503);
  t.equal(receiver.received.length, 2);
});

t.test('restart - retries pending when hooksd is killed are delivered after it starts again', async (t) => {
  let failing = true;
  const receiver = await startReceiver(t, () => ({ status: failing ? 500 : 204 }));
  const {
    daemon: first,
    js,
    configFile,
  } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    // Only the sweep at start-up runs, so the sweeper lag it reports stays to be read.
    pipeline: PIPELINE_WITHOUT_JITTER,
    delivery: { sweepSchedule: '0 0 * * * *' },
    // The retries must still be pending when hooksd is killed, a moment after the first failures.
    consumers: [{ id: 'later', url: receiver.url, retrySchedule: ['0s', '4s'] }],
  });
  const events = [envelope('company.created'), envelope('company.created'), envelope('company.created')];
  for (const e of events) await js.publish('events.company.created', e.body);
  await receiver.waitFor(3);
  await eventually(async () =>
    (await first.api('/v1/messages?status=attempting')).body.data.length === 3 ? true : undefined,
  );
  t.equal(await first.stop('SIGKILL'), null, 'hooksd was killed');
  const killedAt = Date.now();
  // Down for 5 s: the retries, due 4 s after their failures, are overdue by at least 1 s.
  await new Promise((resolve) => setTimeout(resolve, 5000));

  failing = false;
  const second = await startDaemon(t, configFile);
  const received = await receiver.waitFor(6);
  const retried = received.slice(3).map((r) => JSON.parse(r.body.toString()).id);
  t.same(retried.sort(), events.map((e) => e.id).sort(), 'each pending retry was delivered after the restart');
  const done = await eventually(async () => {
    const { body } = await second.api('/v1/messages?status=success');
    return body.data.length === 3 ? body.data : undefined;
  });
  t.same(
    done.map((m: any) => m.attempts),
    [2, 2, 2],
  );
  const metrics = await (await fetch(`${second.url}/metrics`)).text();
  const lag = Number(/^hooksd_sweeper_lag_seconds(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1]);
  const atLeast = (Date.now() - killedAt) / 1000;
  t.ok(
    lag >= 0.95 && lag < atLeast,
    `the start-up sweep handed the retries over ${lag} s late (down 5 s, retries due 4 s after failing)`,
  );
});
