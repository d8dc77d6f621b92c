import t from 'tap';
import { eventually, json } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

t.test('readiness - what the overview shows: NATS and the store checked, nothing wrong', async (t) => {
  const hooksd = await startInProcess(t, {});
  // NATS going away is checked with a daemon process (test/e2e/nats-faults.test.ts): an app in this
  // process whose NATS server is gone does not always let the test process end.
  t.same(await hooksd.api('/readyz'), {
    status: 200,
    body: { status: 'ready', checks: { store: true, nats: true, draining: false }, problems: {} },
  });
});

t.test('readiness - while hooksd drains, the draining check says so', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 3000 }));
  const hooksd = await startInProcess(t, {
    eventTypes: [{ name: 'order.placed' }],
    consumers: [{ id: 'slow', url: receiver.url }],
  });
  t.equal((await hooksd.api('/v1/events', json('POST', { eventType: 'order.placed', payload: {} }))).status, 202);
  await receiver.waitFor(1);
  // The attempt in flight holds the drain for 3 s, and the API answers until it ends.
  const stopping = hooksd.app.stop();
  const draining = await eventually(async () => {
    const answer = await hooksd.api('/readyz').catch(() => undefined);
    return answer?.status === 503 ? answer.body : undefined;
  }, 20_000);
  t.match(draining, {
    status: 'not ready',
    checks: { store: true, draining: true },
    problems: { draining: 'hooksd is stopping: it takes no new work' },
  });
  await stopping;
});
