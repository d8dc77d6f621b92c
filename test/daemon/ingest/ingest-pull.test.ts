import t from 'tap';
import { connect, nanos } from 'nats';
import { eventually } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startNats } from '../../helpers/nats.js';
import { startReceiver } from '../../helpers/receiver.js';

/** Makes every store write of `app` take `ms` longer, as a slow disk would. */
function slowWrites(store: { write: (...args: never[]) => Promise<void> }, ms: number): void {
  const write = store.write.bind(store) as (...args: unknown[]) => Promise<void>;
  store.write = (async (...args: unknown[]) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return write(...args);
  }) as never;
}

t.test('ingest - holds a bounded number of events unacked, so a crash strands few of them', async (t) => {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'c', url: receiver.url }],
  });
  slowWrites(hooksd.app.store, 1000);
  const nc = await connect({ servers: hooksd.nats!.url });
  t.teardown(() => nc.close());
  const js = nc.jetstream();
  await Promise.all(
    Array.from({ length: 5000 }, (_, i) =>
      js.publish('events.company.created', JSON.stringify({ id: `e${i}`, payload: {} })),
    ),
  );
  const jsm = await nc.jetstreamManager();
  let most = 0;
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    most = Math.max(most, (await jsm.consumers.info('HOOKS_EVENTS', 'hooksd')).num_ack_pending);
  }
  t.ok(most > 0, `hooksd was holding events (${most} at most)`);
  t.ok(most <= 1024 + 256, `never more than 1,024 held plus one pull of 256 (${most} at most), far below 4,096`);
});

t.test('ingest - events held longer than a third of the ack wait are kept from being sent again', async (t) => {
  const receiver = await startReceiver(t);
  const nats = await startNats(t);
  // A durable consumer made by an older hooksd, with a 60 s ack wait: brought in line at start.
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'HOOKS_EVENTS', subjects: ['events.>'] });
  await jsm.consumers.add('HOOKS_EVENTS', {
    durable_name: 'hooksd',
    ack_policy: 'explicit' as never,
    ack_wait: nanos(60_000),
  });
  const hooksd = await startInProcess(t, {
    nats: { servers: [nats.url], ackWait: '2s' },
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'c', url: receiver.url }],
  });
  t.equal((await jsm.consumers.info('HOOKS_EVENTS', 'hooksd')).config.ack_wait, nanos(2000), 'ack wait set to 2 s');
  t.ok(hooksd.logs().some((line) => line.msg === 'updated the durable consumer to the config'));
  // Each write now takes longer than the ack wait.
  slowWrites(hooksd.app.store, 3500);
  const js = nc.jetstream();
  for (let i = 0; i < 20; i++)
    await js.publish('events.company.created', JSON.stringify({ id: `slow-${i}`, payload: {} }));
  await receiver.waitFor(20, 60_000);
  const info = await eventually(async () => {
    const current = await jsm.consumers.info('HOOKS_EVENTS', 'hooksd');
    return current.num_ack_pending === 0 ? current : undefined;
  });
  // The consumer sequence counts every delivery NATS made, a delivery again included.
  t.equal(info.delivered.consumer_seq, 20, 'nothing was sent again, though each write took longer than the ack wait');
  t.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 20);
});
