import t from 'tap';
import { connect } from 'nats';
import { eventually, json, tempDir } from '../helpers/hooksd.js';
import { metricsOf, metricSum, startInstances, type Instance } from '../helpers/hooksd-group.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';
import { startReceiver } from '../helpers/receiver.js';
import { publishAll } from './load.js';

/**
 * A recover task made through one instance of three runs on all three: each resends the failed
 * messages of its own store, and the task's answer sums their parts.
 */
const EVENTS = Number(process.env.HOOKSD_CLUSTER_TASK_EVENTS ?? 600);

t.setTimeout(10 * 60_000);

/** The instance's messages that reached `failure`, from its /metrics (its own store, whatever the lists gather). */
const failedOn = async (instance: Instance) =>
  metricSum(await metricsOf(instance), 'hooksd_messages_total', { status: 'failure' });

t.test('cluster - recover through one instance resends the failed messages of every instance, summed', async (t) => {
  const dir = tempDir(t, 'cluster-tasks');
  const cluster = await startNatsCluster(t, dir);
  let failing = true;
  const receiver = await startReceiver(t, () => ({ status: failing ? 500 : 200 }));
  const delivered = new Set<string>();
  const respond = receiver.respond;
  receiver.respond = (request, index) => {
    const answer = respond(request, index);
    if (answer.status === 200) delivered.add(String(request.headers['webhook-id']));
    return answer;
  };
  // One attempt only: a message whose attempt fails is failed at once, on the instance that took its event.
  const instances = await startInstances(t, dir, 3, cluster.urls, {
    eventTypes: [{ name: 'load.tick' }],
    consumers: [{ id: 'flaky', url: receiver.url, retrySchedule: ['0s'] }],
  });
  for (const instance of instances)
    await eventually(
      async () => ((await instance.daemon.api('/readyz')).body.instances.live.length === 3 ? true : undefined),
      30_000,
      `${instance.id} sees the group`,
    );

  const since = new Date(Date.now() - 1000).toISOString();
  const nc = await connect({ servers: cluster.urls });
  t.teardown(() => nc.close());
  // A small window: the instances pull turn by turn, so each takes a share.
  await publishAll(nc.jetstream(), 'r-', EVENTS, 20);
  const failed = await eventually(
    async () => {
      const counts = await Promise.all(instances.map(failedOn));
      return counts.reduce((sum, n) => sum + n, 0) === EVENTS ? counts : undefined;
    },
    5 * 60_000,
    'every message failed',
  );
  t.ok(
    failed.every((n) => n > 0),
    `each instance holds failed messages: ${failed.join(', ')}`,
  );
  const failedIds = new Set(receiver.received.map((request) => String(request.headers['webhook-id'])));
  t.equal(failedIds.size, EVENTS, 'each message was tried once');

  failing = false;
  const [first, second] = instances as [Instance, Instance, Instance];
  const made = await first.daemon.api('/v1/consumers/flaky/recover', json('POST', { since }));
  t.equal(made.status, 202, 'the task is made');
  t.same(
    made.body.parts.map((part: { instance: string }) => part.instance),
    instances.map((instance) => instance.id),
    'it has a part for each live instance',
  );

  const done = await eventually(
    async () => {
      const { body } = await first.daemon.api(`/v1/tasks/${made.body.id}`);
      return body.status === 'running' ? undefined : body;
    },
    5 * 60_000,
    'the task ends',
  );
  t.match(done, { status: 'done', examined: EVENTS, sent: EVENTS, error: null }, 'the summed counts');
  t.equal(delivered.size, EVENTS, 'the receiver got every failed message once more');
  t.same([...delivered].sort(), [...failedIds].sort(), 'with the webhook-ids it had failed');
  t.equal(receiver.received.length, 2 * EVENTS, 'and nothing else');
  for (const [i, instance] of instances.entries()) {
    const part = done.parts.find((p: { instance: string }) => p.instance === instance.id);
    t.match(
      part,
      { status: 'done', live: true, examined: failed[i], sent: failed[i], error: null },
      `${instance.id} resent its ${failed[i]} failed messages`,
    );
  }
  t.equal(
    done.sent,
    done.parts.reduce((sum: number, part: { sent: number }) => sum + part.sent, 0),
    'the task sent the sum of its parts',
  );

  const elsewhere = await second.daemon.api(`/v1/tasks/${made.body.id}`);
  t.match(elsewhere.body, { status: 'done', examined: EVENTS, sent: EVENTS }, 'another instance answers the same');

  const group = await second.daemon.api('/v1/instances');
  t.equal(group.status, 200);
  t.match(group.body, { self: second.id, count: 3 });
  t.same(
    group.body.data.map((member: { id: string; self: boolean; sameYaml: boolean | null }) => [
      member.id,
      member.self,
      member.sameYaml,
    ]),
    instances.map((instance) => [instance.id, instance === second, true]),
    'GET /v1/instances lists the group; every YAML agrees',
  );
});
