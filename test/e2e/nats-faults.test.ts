import t from 'tap';
import path from 'node:path';
import { connect } from 'nats';
import { eventIdOf } from '../helpers/gateway.js';
import { eventually, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { freePort } from '../helpers/nats.js';
import { startNatsProcess } from '../helpers/nats-process.js';
import { startReceiver } from '../helpers/receiver.js';

const readiness = async (url: string) => {
  const res = await fetch(`${url}/readyz`).catch(() => undefined);
  return res === undefined ? undefined : { status: res.status, body: await res.json() };
};

t.test(
  'nats faults - nats-server killed and back under a running hooksd: 503 while away, 200 after, nothing lost',
  async (t) => {
    const dir = tempDir(t, 'nats-fault');
    const nats = await startNatsProcess(t, path.join(dir, 'nats'));
    const receiver = await startReceiver(t);
    const failing = await startReceiver(t, () => ({ status: 500 }));
    const file = await writeConfig(dir, {
      nats: { servers: [nats.url] },
      eventTypes: [{ name: 'company.created' }],
      consumers: [
        { id: 'ok', url: receiver.url },
        { id: 'down', url: failing.url, retrySchedule: ['0s'] },
      ],
    });
    const daemon = await startDaemon(t, file);
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    t.teardown(() => nc.close());
    const failures = new Set<string>();
    void (async () => {
      for await (const msg of nc.subscribe('hooksd.ops.message.failure')) failures.add(msg.json<any>().payload.eventId);
    })();
    const js = nc.jetstream();
    const publish = async (id: string) => {
      for (;;) {
        try {
          await js.publish('events.company.created', JSON.stringify({ id, payload: {} }), { msgID: id, timeout: 2000 });
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };

    // Events in flight when the server goes away.
    const first = Promise.all(Array.from({ length: 300 }, (_, i) => publish(`before-${i}`)));
    await receiver.waitFor(50, 30_000);
    await nats.kill();
    const away = await eventually(async () => {
      const answer = await readiness(daemon.url);
      return answer?.status === 503 ? answer.body : undefined;
    });
    t.equal(away.checks.nats, false, '/readyz answers 503 while NATS is away, saying why');
    t.same(away.problems, { nats: 'the connection is lost; reconnecting' }, 'NATS is the only problem');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await nats.start();
    const back = await eventually(async () => {
      const answer = await readiness(daemon.url);
      return answer?.status === 200 ? answer.body : undefined;
    }, 30_000);
    t.equal(back.checks.nats, true, '/readyz answers 200 again once hooksd has reconnected by itself');
    await first;
    await Promise.all(Array.from({ length: 100 }, (_, i) => publish(`after-${i}`)));

    const wanted = [
      ...Array.from({ length: 300 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 100 }, (_, i) => `after-${i}`),
    ];
    await eventually(
      () => {
        const seen = new Set(receiver.received.map(eventIdOf));
        return wanted.every((id) => seen.has(id)) ? true : undefined;
      },
      60_000,
      'every event delivered',
    );
    t.equal(new Set(receiver.received.map(eventIdOf)).size, 400, 'all 400 events arrived, none lost');
    // Acks resume too: NATS ends with nothing pending and nothing awaiting an ack (events whose
    // ack was lost while it was away come back after the ack wait and are acked then).
    const jsm = await nc.jetstreamManager();
    const settled = await eventually(
      async () => {
        const info = await jsm.consumers.info('HOOKS_EVENTS', 'hooksd');
        return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
      },
      60_000,
      'every event acknowledged',
    );
    t.equal(settled.ack_floor.stream_seq, settled.delivered.stream_seq, 'NATS holds every event as acknowledged');
    t.ok(settled.ack_floor.stream_seq >= 400, `acknowledged up to stream sequence ${settled.ack_floor.stream_seq}`);
    await eventually(() => (failures.has('after-99') ? true : undefined), 30_000, 'an ops event after the restart');
    t.ok(failures.has('after-0'), 'operational events are published again after the reconnection');
    const starts = daemon.logs().filter((line) => line.msg === 'hooksd ready').length;
    t.equal(starts, 1, 'the same hooksd process throughout: it never restarted');
    t.ok(
      daemon.logs().some((line) => line.nats === 'reconnect'),
      'it logged the reconnection',
    );
  },
);

t.test('nats faults - NATS unreachable at start: hooksd waits, says so, and starts once NATS is there', async (t) => {
  const dir = tempDir(t, 'nats-late');
  const port = await freePort();
  const receiver = await startReceiver(t);
  const apiPort = await freePort();
  const file = await writeConfig(dir, {
    server: { listen: `127.0.0.1:${apiPort}` },
    nats: { servers: [`nats://127.0.0.1:${port}`] },
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'c', url: receiver.url }],
  });
  const starting = startDaemon(t, file);
  const waiting = await eventually(async () => {
    const answer = await readiness(`http://127.0.0.1:${apiPort}`);
    return answer?.status === 503 ? answer.body : undefined;
  });
  t.equal(waiting.checks.nats, false, 'meanwhile the API is up and /readyz says NATS is missing');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const nats = await startNatsProcess(t, path.join(dir, 'nats'), port);
  const daemon = await starting;
  const waits = daemon
    .logs()
    .filter(
      (line) => line.msg === 'NATS is not reachable; hooksd tries again (set nats.failFast: true to exit instead)',
    );
  t.ok(waits.length >= 2, `it said so while it waited (${waits.length} times), with the wait before the next try`);
  t.type(waits[0].retryInMs, 'number');
  t.ok(
    waits.slice(1).every((line, i) => line.retryInMs > waits[i].retryInMs),
    `with backoff: each wait longer than the one before (${waits.map((line) => line.retryInMs).join(', ')} ms)`,
  );
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  await nc.jetstream().publish('events.company.created', JSON.stringify({ id: 'late', payload: {} }));
  await receiver.waitFor(1);
  t.equal(eventIdOf(receiver.received[0]), 'late', 'then it delivers as usual');
});

t.test('nats faults - with nats.failFast, NATS unreachable at start stops hooksd with a clear error', async (t) => {
  const port = await freePort();
  const file = await writeConfig(tempDir(t, 'nats-failfast'), {
    nats: { servers: [`nats://127.0.0.1:${port}`], failFast: true },
  });
  const error = await startDaemon(t, file).then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(error?.message, /exited before it was ready \(code 1\)/);
  t.match(error?.message, new RegExp(`HOOKSD_NATS_UNAVAILABLE: cannot connect to NATS at nats://127.0.0.1:${port}`));
});
