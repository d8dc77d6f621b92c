import t from 'tap';
import { connect } from 'nats';
import { eventually } from '../helpers/hooksd.js';
import { listAll, metricsOf, metricSum } from '../helpers/hooksd-group.js';
import { instanceTag, ownerTagOf } from '../../daemon/store/ids.js';
import { publishAll } from './load.js';
import { groupFormed, startLoadGroup } from './load-group.js';

/**
 * Three hooksd instances on a three-node NATS cluster share the work: every (event, consumer)
 * pair arrives, and each instance delivers its share of them. Then the API of one instance
 * walks the messages of all three (90,000 by default) without a gap or a repeat.
 */
const EVENTS = Number(process.env.HOOKSD_CLUSTER_EVENTS ?? 30_000);
const CONSUMERS = 3;

t.setTimeout(20 * 60_000);

t.test(
  'cluster - 3 instances share the events for 3 consumers: every pair arrives, each delivers 15 % or more',
  async (t) => {
    const { cluster, paths, receiver, instances } = await startLoadGroup(t, 'cluster-share', {
      consumers: CONSUMERS,
      prefix: 'e-',
      count: EVENTS,
      failEvery: 0,
    });

    // Each instance sees the whole group, on /readyz and in its metrics.
    const ids = instances.map((instance) => instance.id);
    for (const instance of instances) {
      const ready = await groupFormed(instance, 3);
      t.same(ready.instances, { self: instance.id, live: ids }, `${instance.id}: /readyz lists the live instances`);
      const metrics = await metricsOf(instance);
      t.equal(metricSum(metrics, 'hooksd_instances_live'), 3);
      t.equal(metricSum(metrics, 'hooksd_instance_info', { instance_id: instance.id }), 1);
    }

    const nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1 });
    t.teardown(() => nc.close());
    const jsm = await nc.jetstreamManager();
    t.equal((await jsm.streams.info('HOOKS_EVENTS')).config.num_replicas, 3, 'the event stream has 3 replicas');
    t.equal((await jsm.streams.info('HOOKS_EVENTS_HANDOVER')).config.num_replicas, 3, 'so has the hand-over stream');

    const started = Date.now();
    await publishAll(nc.jetstream(), 'e-', EVENTS);
    const published = Date.now();
    await eventually(
      async () => {
        const summary = Object.values(await receiver.summary());
        return summary.every((p) => p.delivered === EVENTS) ? true : undefined;
      },
      15 * 60_000,
      'every pair',
    );
    const done = Date.now();

    const summary = await receiver.summary();
    for (const p of paths) {
      const { missing, unverified, unexpected, duplicates } = summary[p];
      t.same(missing, [], `consumer ${p}: every event arrived`);
      t.equal(unverified, 0, `consumer ${p}: every signature verifies`);
      t.equal(unexpected, 0);
      t.comment(`consumer ${p}: ${duplicates} duplicates`);
    }

    // Each instance's share, from its own counter of successful attempts (an attempt is counted
    // once its answer is recorded, a moment after the receiver saw it); ids carry its tag.
    const pairs = EVENTS * CONSUMERS;
    const counted = async () =>
      Promise.all(
        instances.map(async (instance) =>
          metricSum(await metricsOf(instance), 'hooksd_attempts_total', { outcome: 'success' }),
        ),
      );
    let last: number[] = [];
    const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
    const counts = await eventually(
      async () => {
        last = await counted();
        return sum(last) >= pairs ? last : undefined;
      },
      60_000,
      'every delivery counted by the instances',
    ).catch(() => last);
    t.ok(sum(counts) >= pairs, `${sum(counts)} deliveries in all for ${pairs} pairs`);
    for (const [i, instance] of instances.entries()) {
      const share = counts[i] / pairs;
      t.comment(`${instance.id}: ${counts[i]} deliveries, ${(100 * share).toFixed(1)} %`);
      t.ok(share >= 0.15, `${instance.id} delivered ${(100 * share).toFixed(1)} % of the pairs (15 % or more)`);
    }
    // One API across the group: a walk through one instance meets every message of all three once;
    // the ids of each instance's messages carry its tag.
    const through = instances[1];
    const walkStarted = Date.now();
    const walked = await listAll<{ id: string; eventId: string; consumerId: string }>(through, '/v1/messages');
    const walkSeconds = (Date.now() - walkStarted) / 1000;
    t.equal(new Set(walked.map((m) => m.id)).size, walked.length, `the walk of ${walked.length} messages: no repeat`);
    const walkedPairs = new Set(walked.map((m) => `${m.eventId}/${m.consumerId}`));
    t.equal(walkedPairs.size, pairs, `every one of the ${pairs} pairs`);
    t.ok(
      walked.every((m, i) => i === 0 || walked[i - 1].id > m.id),
      'newest first, in one order across the instances',
    );
    for (const [i, instance] of instances.entries()) {
      // No failures and no resends: each message of an instance had one successful attempt there.
      const owned = walked.filter((m) => ownerTagOf(m.id, 'msg_') === instanceTag(instance.id)).length;
      t.equal(owned, counts[i], `${instance.id}: all ${counts[i]} of its messages, with its tag, none left out`);
    }
    t.comment(
      `walked ${walked.length} messages through ${through.id}, 250 a page, in ${walkSeconds.toFixed(1)} s ` +
        `(${Math.round(walked.length / walkSeconds)} messages/s)`,
    );
    const foreign = walked.find((m) => ownerTagOf(m.id, 'msg_') !== instanceTag(instances[0].id))!;
    const { status, body } = await instances[0].daemon.api(`/v1/messages/${foreign.id}`);
    t.equal(status, 200, `${instances[0].id} answers for a message another instance owns`);
    t.equal(body.id, foreign.id);
    t.comment(
      `published ${EVENTS} events in ${((published - started) / 1000).toFixed(1)} s; all ${pairs} pairs ` +
        `delivered ${((done - started) / 1000).toFixed(1)} s after the first publish ` +
        `(${Math.round(pairs / ((done - started) / 1000))} deliveries/s)`,
    );
  },
);
