import t, { type Tap } from 'tap';
import { connect } from 'nats';
import { eventually, json, tempDir } from '../helpers/hooksd.js';
import { metricsOf, metricSum, startInstances, type Instance } from '../helpers/hooksd-group.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';
import { startReceiver, type Received } from '../helpers/receiver.js';
import { eventIdOf } from '../helpers/gateway.js';
import { instanceTag, ownerTagOf } from '../../daemon/store/ids.js';
import { groupFormed } from './load-group.js';
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

/**
 * Three instances whose consumer `flaky` (one attempt per message) failed every message of
 * `events`: each instance holds the failed messages of the events it took. The receiver
 * answers 200 once `heal()` is called and counts the webhook-ids it answered 200.
 */
async function failedGroup(t: Tap.Test, name: string, events: number, consumer: Record<string, unknown> = {}) {
  const dir = tempDir(t, name);
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
    consumers: [{ id: 'flaky', url: receiver.url, retrySchedule: ['0s'], ...consumer }],
  });
  for (const instance of instances) {
    await groupFormed(instance, 3);
    const metrics = await metricsOf(instance);
    t.equal(
      metricSum(metrics, 'hooksd_instances_live', { instance: instance.id }),
      3,
      `${instance.id}'s series carry instance="${instance.id}"`,
    );
  }

  const since = new Date(Date.now() - 1000).toISOString();
  const nc = await connect({ servers: cluster.urls });
  t.teardown(() => nc.close());
  // A small window: the instances pull turn by turn, so each takes a share.
  await publishAll(nc.jetstream(), 'r-', events, 20);
  const failed = await eventually(
    async () => {
      const counts = await Promise.all(instances.map(failedOn));
      return counts.reduce((sum, n) => sum + n, 0) === events ? counts : undefined;
    },
    5 * 60_000,
    'every message failed',
  );
  t.ok(
    failed.every((n) => n > 0),
    `each instance holds failed messages: ${failed.join(', ')}`,
  );
  const failedIds = new Set(receiver.received.map((request) => String(request.headers['webhook-id'])));
  t.equal(failedIds.size, events, 'each message was tried once');
  const heal = () => {
    failing = false;
  };
  return {
    instances: instances as [Instance, Instance, Instance],
    receiver,
    delivered,
    failed,
    failedIds,
    since,
    heal,
  };
}

/** The task once it is no longer running, as `instance` answers. */
const ended = (instance: Instance, id: string) =>
  eventually(
    async () => {
      const { body } = await instance.daemon.api(`/v1/tasks/${id}`);
      return body.status === 'running' ? undefined : body;
    },
    5 * 60_000,
    'the task ends',
  );

t.test('cluster - recover through one instance resends the failed messages of every instance, summed', async (t) => {
  const { instances, receiver, delivered, failed, failedIds, since, heal } = await failedGroup(
    t,
    'cluster-tasks',
    EVENTS,
  );
  heal();
  const [first, second] = instances;
  const made = await first.daemon.api('/v1/consumers/flaky/recover', json('POST', { since }));
  t.equal(made.status, 202, 'the task is made');
  t.same(
    made.body.parts.map((part: { instance: string }) => part.instance),
    instances.map((instance) => instance.id),
    'it has a part for each live instance',
  );

  const done = await ended(first, made.body.id);
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

  // One event replayed through an instance that does not hold it: the holder makes the message.
  const [request] = receiver.received as [Received];
  const eventId = eventIdOf(request) as string;
  const ownerTag = ownerTagOf(String(request.headers['webhook-id']), 'msg_');
  const owner = instances.find((instance) => instanceTag(instance.id) === ownerTag) as Instance;
  const asked = instances.find((instance) => instance !== owner) as Instance;
  const replayed = await asked.daemon.api(`/v1/events/${eventId}/replay`, json('POST', {}));
  t.equal(replayed.status, 202, `${asked.id} answers the replay of an event ${owner.id} holds`);
  t.equal(replayed.body.eventId, eventId);
  t.equal(replayed.body.messages.length, 1, 'one new message');
  const [copy] = replayed.body.messages;
  t.equal(ownerTagOf(copy.id, 'msg_'), ownerTag, `made by ${owner.id}: its id carries that instance's tag`);
  await eventually(() => (delivered.has(copy.id) ? true : undefined), 60_000, 'the replayed message delivered');
  const wrong = await asked.daemon.api(`/v1/events/${eventId}/replay`, json('POST', { consumerIds: ['nope'] }));
  t.equal(wrong.status, 404, 'an unknown consumer, said by the holder');
  t.match(wrong.body, { code: 'HOOKSD_NOT_FOUND', message: /"nope"/ });
  const unknown = await asked.daemon.api('/v1/events/no-such-event/replay', json('POST', {}));
  t.equal(unknown.status, 404, 'an event no instance holds');
  t.match(unknown.body, { code: 'HOOKSD_NOT_FOUND', message: /no-such-event/ });
});

t.test(
  'cluster - an instance killed during a recover resumes its part when it starts again; the task waits for it',
  async (t) => {
    const events = 150;
    const rate = 3;
    // Paced: each instance's part takes about 50 / 3 s, so the kill lands in the middle of it.
    const { instances, delivered, failed, failedIds, since, heal } = await failedGroup(
      t,
      'cluster-tasks-kill',
      events,
      {
        rateLimit: rate,
        concurrency: 1,
      },
    );
    heal();
    const [first, , victim] = instances;
    const made = await first.daemon.api('/v1/consumers/flaky/recover', json('POST', { since }));
    t.equal(made.status, 202);
    await eventually(
      async () => {
        const { body } = await victim.daemon.api(`/v1/tasks/${made.body.id}`);
        const part = body.parts.find((p: { instance: string }) => p.instance === victim.id);
        return part.sent >= 3 ? true : undefined;
      },
      60_000,
      `${victim.id} to resend a few`,
    );
    await victim.daemon.stop('SIGKILL');

    // The others finish their parts; the task waits for the dead instance's.
    const waiting = await eventually(
      async () => {
        const { body } = await first.daemon.api(`/v1/tasks/${made.body.id}`);
        const others = body.parts.filter((p: { instance: string }) => p.instance !== victim.id);
        const dead = body.parts.find((p: { instance: string }) => p.instance === victim.id);
        return others.every((p: { status: string }) => p.status === 'done') && !dead.live ? body : undefined;
      },
      3 * 60_000,
      'the live parts to finish',
    );
    t.equal(waiting.status, 'running', 'the task still runs');
    t.match(
      waiting.parts.find((p: { instance: string }) => p.instance === victim.id),
      { status: 'running', live: false },
      "the killed instance's part is running, its instance not alive",
    );
    t.ok(delivered.size < events, `not everything is resent yet (${delivered.size} of ${events})`);

    await victim.start();
    const done = await ended(first, made.body.id);
    t.match(done, { status: 'done', error: null }, 'done once the instance is back');
    t.ok(
      done.parts.every((p: { status: string; live: boolean }) => p.status === 'done' && p.live),
      'every part done',
    );
    t.same([...delivered].sort(), [...failedIds].sort(), 'every failed message was delivered, with its webhook-id');
    const resent = done.parts.find((p: { instance: string }) => p.instance === victim.id);
    const victimFailed = failed[2] as number;
    // After a kill the part carries on from its last save (at most a second old): what it did since is
    // looked at again, so its counts are off by at most about a second of work (rate messages/s, and
    // an attempt cut short by the kill resent once more).
    const slack = 2 * rate + 2;
    t.ok(
      Math.abs(resent.sent - victimFailed) <= slack,
      `${victim.id} resent its ${victimFailed} failed messages (${resent.sent} counted, within ${slack})`,
    );
  },
);
