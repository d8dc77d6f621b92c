import t from 'tap';
import path from 'node:path';
import { connect, type JetStreamClient } from 'nats';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { eventually, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/hooksd.js';
import { startNatsProcess } from '../helpers/nats-process.js';
import { startReceiverProcess } from '../helpers/receiver-process.js';

/**
 * hooksd and its nats-server killed under load, as an operator's machines would crash: every
 * (event, consumer) pair must arrive, with a stable webhook-id, and hooksd must get back to
 * work fast after each restart. The receiver runs in a process of its own, so the publishing
 * here does not slow it.
 */
const EVENTS = Number(process.env.HOOKSD_FAULT_EVENTS ?? 20_000);
const RATE = 800;
const NORMAL_EVENTS = 5000;
const CONSUMERS = 4;
/** Seconds into the load at which hooksd is SIGKILLed (and started again at once), and nats-server once. */
const HOOKSD_KILLS = [3, 7, 11, 17, 21];
const NATS_KILL = 14;

t.setTimeout(15 * 60_000);

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Publishes until NATS takes it (it may be down for a moment): the same msgID makes a retry a no-op. */
async function publishSurely(js: JetStreamClient, id: string): Promise<void> {
  const body = JSON.stringify({ id, eventType: 'load.tick', payload: { id } });
  for (;;) {
    try {
      await js.publish('events.load.tick', body, { msgID: id, timeout: 2000 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

t.test('faults - hooksd SIGKILLed 5 times and nats-server once under load: nothing lost, fast recovery', async (t) => {
  const dir = tempDir(t, 'kill');
  const nats = await startNatsProcess(t, path.join(dir, 'nats'));
  const paths = Array.from({ length: CONSUMERS }, (_, i) => `/c${i}`);
  const secrets = Object.fromEntries(paths.map((p) => [p, generateSecret()]));
  const receiver = await startReceiverProcess(t, secrets);
  const file = await writeConfig(dir, {
    nats: { servers: [nats.url] },
    eventTypes: [{ name: 'load.tick' }],
    consumers: paths.map((p, i) => ({ id: `c${i}`, url: receiver.url + p, secret: secrets[p] })),
  });
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  t.teardown(() => nc.close());
  const js = nc.jetstream();
  let daemon: Daemon = await startDaemon(t, file);
  const deliveredAtLeast = (count: number) => async () => ((await receiver.count()) >= count ? true : undefined);

  // The normal rate: a backlog of NORMAL_EVENTS for the four consumers, drained without faults.
  const normalStart = Date.now();
  await Promise.all(Array.from({ length: NORMAL_EVENTS }, (_, i) => publishSurely(js, `normal-${i}`)));
  await eventually(deliveredAtLeast(NORMAL_EVENTS * CONSUMERS), 120_000, 'the normal run');
  const normalRate = (NORMAL_EVENTS * CONSUMERS) / ((Date.now() - normalStart) / 1000);

  // The load, with the kills on their schedule.
  const restarts: { startedAt: number; readyAt: number }[] = [];
  const loadStart = Date.now();
  const kills = (async () => {
    const schedule = [...HOOKSD_KILLS.map((at) => ({ at, what: 'hooksd' })), { at: NATS_KILL, what: 'nats' }];
    for (const { at, what } of schedule.sort((a, b) => a.at - b.at)) {
      await new Promise((resolve) => setTimeout(resolve, loadStart + at * 1000 - Date.now()));
      if (what === 'nats') {
        await nats.kill();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await nats.start();
        continue;
      }
      await daemon.stop('SIGKILL');
      const startedAt = Date.now();
      daemon = await startDaemon(t, file);
      restarts.push({ startedAt, readyAt: Date.now() });
    }
  })();
  const published: Promise<void>[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const due = loadStart + (i * 1000) / RATE;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    published.push(publishSurely(js, `load-${i}`));
  }
  await Promise.all(published);
  const loadEnd = Date.now();
  await kills;
  const all = (NORMAL_EVENTS + EVENTS) * CONSUMERS;
  await eventually(
    async () => {
      const counts = Object.values(await receiver.summary());
      return counts.reduce((sum, p) => sum + p.distinct, 0) >= all ? true : undefined;
    },
    300_000,
    'every pair',
  );

  // Every pair, once or more, with one webhook-id, and a signature that verifies.
  const summary = await receiver.summary({ prefix: 'load-', count: EVENTS });
  let duplicates = 0;
  for (const p of paths) {
    const { missing, unstable, unverified, duplicates: repeated } = summary[p];
    duplicates += repeated;
    t.same(missing, [], `consumer ${p}: every event of the load arrived`);
    t.equal(unstable, 0, `consumer ${p}: a repeated delivery keeps its webhook-id`);
    t.equal(unverified, 0, `consumer ${p}: every signature verifies`);
  }

  // Recovery: each restart's time to ready and to its first delivery; the drain after the load.
  const times = await receiver.times();
  for (const [n, { startedAt, readyAt }] of restarts.entries()) {
    const first = times.find((at) => at >= readyAt) ?? Infinity;
    t.comment(
      `restart ${n + 1}: ready ${seconds(readyAt - startedAt)} s after start, ` +
        `first delivery ${seconds(first - readyAt)} s after ready`,
    );
    t.ok(readyAt - startedAt < 5000, `restart ${n + 1}: ready within 5 s of start`);
    t.ok(first - readyAt < 2000, `restart ${n + 1}: deliveries resume within 2 s of ready`);
  }
  const lastAt = times[times.length - 1];
  const drained = times.filter((at) => at >= loadEnd).length;
  const duringLoad = times.filter((at) => at >= loadStart && at < loadEnd).length;
  const drainRate = drained / ((lastAt - loadEnd) / 1000);
  t.comment(
    `normal ${Math.round(normalRate)} deliveries/s; ` +
      `during the load ${duringLoad} in ${seconds(loadEnd - loadStart)} s; ` +
      `after it ${drained} in ${seconds(lastAt - loadEnd)} s, ` +
      `${Math.round(drainRate)}/s (${(drainRate / normalRate).toFixed(2)} of normal); ` +
      `duplicates ${duplicates} (${((100 * duplicates) / (EVENTS * CONSUMERS)).toFixed(2)} %)`,
  );
  t.ok(lastAt - loadEnd < 60_000, `the last pair arrived ${seconds(lastAt - loadEnd)} s after the load ended`);
  t.ok(drainRate >= 0.8 * normalRate, 'the backlog drains at 0.8 of the normal rate or more');
});
