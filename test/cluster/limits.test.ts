import t from 'tap';
import { connect } from 'nats';
import { eventually, tempDir } from '../helpers/hooksd.js';
import { metricsOf, metricSum, startInstances, type Instance } from '../helpers/hooksd-group.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { publishAll } from './load.js';

/**
 * A consumer's rateLimit holds for the group: three hooksd processes on a three-node NATS
 * cluster (streams and control bucket with 3 replicas), each with a backlog for one consumer
 * with `rateLimit: 20`, send it 20/s together, not 60/s; with one of them stopped, the two left
 * take 10/s each; with one more killed, the last takes all 20/s.
 */
const RATE = 20;
/** 225 s of work at 20/s: every instance keeps a backlog through both windows, however unevenly they pulled. */
const EVENTS = 4500;
const WARM_UP_MS = 10_000;
const WINDOW_MS = 30_000;
const SECOND_WINDOW_MS = 20_000;

t.setTimeout(10 * 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests the instance has sent the consumer and seen answered 2xx (its own counter). */
async function delivered(instance: Instance): Promise<number> {
  return metricSum(await metricsOf(instance), 'hooksd_attempts_total', { consumer: 'limited', outcome: 'success' });
}

/**
 * Watches for `ms`: the requests the receiver got meanwhile, and how many each instance sent (the
 * difference of its counter; the owner tag of a webhook-id would not do, since a handed-over
 * message keeps the id its first owner gave it).
 */
async function measure(receiver: Receiver, instances: Instance[], ms: number) {
  const before = await Promise.all(instances.map(delivered));
  const from = Date.now();
  await sleep(ms);
  const to = Date.now();
  const after = await Promise.all(instances.map(delivered));
  const seconds = (to - from) / 1000;
  const total = receiver.received.filter((r) => r.at >= from && r.at < to).length;
  const byInstance = Object.fromEntries(instances.map((instance, i) => [instance.id, after[i] - before[i]]));
  return { seconds, total, rate: total / seconds, byInstance };
}

async function rateShare(instance: Instance): Promise<number> {
  return metricSum(await metricsOf(instance), 'hooksd_consumer_rate_share', { consumer: 'limited' });
}

t.test(
  'cluster - rateLimit 20 across 3 instances: 20/s ± 10 % for the group, with 3, 2 (SIGTERM) and 1 (SIGKILL) left',
  async (t) => {
    const dir = tempDir(t, 'cluster-limits');
    const cluster = await startNatsCluster(t, dir);
    const receiver = await startReceiver(t);
    const instances = await startInstances(t, dir, 3, cluster.urls, {
      eventTypes: [{ name: 'load.tick' }],
      consumers: [{ id: 'limited', url: receiver.url, rateLimit: RATE }],
    });
    for (const instance of instances)
      await eventually(
        async () => ((await rateShare(instance)).toFixed(3) === (RATE / 3).toFixed(3) ? true : undefined),
        60_000,
        `${instance.id} takes a third of the rate`,
      );

    const nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1 });
    t.teardown(() => nc.close());
    const jsm = await nc.jetstreamManager();
    const bucket = (await jsm.streams.list().next()).find((info) => info.config.name.startsWith('KV_'));
    t.equal(bucket?.config.num_replicas, 3, `the control bucket (${bucket?.config.name}) has 3 replicas`);
    t.equal((await jsm.streams.info('HOOKS_EVENTS')).config.num_replicas, 3, 'the event stream has 3 replicas');

    await publishAll(nc.jetstream(), 'l-', EVENTS);
    const [first] = await receiver.waitFor(1, 120_000);

    // Three instances, each with its backlog: 20/s for the group.
    await sleep(first.at + WARM_UP_MS - Date.now());
    const three = await measure(receiver, instances, WINDOW_MS);
    t.comment(
      `3 instances: ${three.total} requests in ${three.seconds} s; sent by ${JSON.stringify(three.byInstance)}`,
    );
    t.ok(
      three.rate >= RATE * 0.9 && three.rate <= RATE * 1.1,
      `${three.rate.toFixed(2)}/s for the group (20/s ± 10 %)`,
    );
    for (const instance of instances) {
      const sent = three.byInstance[instance.id];
      t.ok(sent >= three.total * 0.2, `${instance.id} sent ${sent} of them (its share: a third)`);
    }
    t.ok(receiver.received.length < EVENTS - 1000, `a backlog is left (${receiver.received.length} of ${EVENTS} sent)`);

    // One leaves: the two left take its share at once.
    const [, , leaving] = instances;
    const staying = instances.filter((instance) => instance !== leaving);
    const signalled = Date.now();
    t.equal(await leaving.daemon.stop('SIGTERM'), 0, `${leaving.id} exited cleanly`);
    const during = receiver.received.filter((r) => r.at >= signalled).length;
    t.comment(`${leaving.id} stopped in ${Date.now() - signalled} ms; ${during} requests arrived meanwhile`);
    for (const instance of staying) {
      t.equal(await rateShare(instance), RATE / 2, `${instance.id} takes half of the rate`);
      const changes = instance.daemon.logs().filter((line) => String(line.msg).includes('shared anew'));
      t.equal(changes.at(-1)?.instances, 2, `${instance.id} logged the new shares`);
    }
    await sleep(2000);
    const two = await measure(receiver, staying, SECOND_WINDOW_MS);
    t.comment(`2 instances: ${two.total} requests in ${two.seconds} s; sent by ${JSON.stringify(two.byInstance)}`);
    t.ok(two.rate >= RATE * 0.9 && two.rate <= RATE * 1.1, `${two.rate.toFixed(2)}/s for the two (20/s ± 10 %)`);
    for (const instance of staying) {
      const each = two.byInstance[instance.id] / two.seconds;
      t.ok(each >= (RATE / 2) * 0.9 && each <= (RATE / 2) * 1.1, `${instance.id}: ${each.toFixed(2)}/s (10/s ± 10 %)`);
    }

    // One is killed without a word: the last takes the whole rate once it counts it gone (6 s of silence).
    const [last, killed] = staying;
    const killedAt = Date.now();
    await killed.daemon.stop('SIGKILL');
    await eventually(async () => ((await rateShare(last)) === RATE ? true : undefined), 30_000, 'the whole rate');
    const noticed = Date.now() - killedAt;
    t.ok(noticed < 10_000, `${last.id} took the whole rate ${noticed} ms after ${killed.id} was killed (7 s at most)`);
    const one = await measure(receiver, [last], SECOND_WINDOW_MS);
    t.comment(`1 instance: ${one.total} requests in ${one.seconds} s`);
    t.ok(
      one.rate >= RATE * 0.9 && one.rate <= RATE * 1.1,
      `${one.rate.toFixed(2)}/s from ${last.id} alone (20/s ± 10 %)`,
    );
  },
);
