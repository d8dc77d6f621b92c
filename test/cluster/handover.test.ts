import t from 'tap';
import { connect } from 'nats';
import { eventually, tempDir } from '../helpers/hooksd.js';
import { listAll, startInstances } from '../helpers/hooksd-group.js';
import { instanceTag, ownerTagOf } from '../../daemon/store/ids.js';
import { startNatsProcess } from '../helpers/nats-process.js';
import { startReceiver } from '../helpers/receiver.js';
import { publishAll } from './load.js';
import { groupFormed, startLoadGroup } from './load-group.js';

/**
 * A graceful stop (SIGTERM) of one instance of three, with retries pending and no restart: it
 * hands them over through JetStream before it exits, and the others deliver them on their
 * schedule with the same webhook-id. Nothing is lost.
 */
const EVENTS = Number(process.env.HOOKSD_CLUSTER_HANDOVER_EVENTS ?? 3000);
const CONSUMERS = 2;
/** The retry's delay: long enough that the retries are still pending when the instance stops. */
const RETRY_AFTER_S = 25;

t.setTimeout(10 * 60_000);

t.test('cluster - SIGTERM one instance with retries pending: the others deliver them, 0 lost', async (t) => {
  // One first request in ten is answered 500: that many messages wait for their retry.
  const { cluster, paths, receiver, instances } = await startLoadGroup(t, 'cluster-handover', {
    consumers: CONSUMERS,
    prefix: 'h-',
    count: EVENTS,
    failEvery: 10,
    consumer: { retrySchedule: ['0s', `${RETRY_AFTER_S}s`] },
  });
  const [, , leaving] = instances;
  await groupFormed(leaving, 3);

  const nc = await connect({ servers: cluster.urls });
  t.teardown(() => nc.close());
  const started = Date.now();
  await publishAll(nc.jetstream(), 'h-', EVENTS);
  const pairs = EVENTS * CONSUMERS;
  // Every pair had its first request: answered, or failed and waiting for its retry.
  await eventually(
    async () => {
      const summary = Object.values(await receiver.summary());
      return summary.reduce((sum, p) => sum + p.delivered + p.failed, 0) >= pairs ? true : undefined;
    },
    5 * 60_000,
    'every first attempt',
  );
  // The list answers for the group: the leaving instance's own messages carry its tag.
  const pending = (await listAll(leaving, '/v1/messages?status=attempting')).filter(
    (m) => ownerTagOf(m.id, 'msg_') === instanceTag(leaving.id),
  );
  t.ok(pending.length > 0, `${leaving.id} has ${pending.length} retries pending`);
  const waiting = pending.filter((m) => Date.parse(m.nextAttemptAt) > Date.now() + 3000);
  t.ok(waiting.length > 0, `${waiting.length} of them not due for 3 s or more`);

  const code = await leaving.daemon.stop('SIGTERM');
  const stoppedAt = Date.now();
  t.equal(code, 0, `${leaving.id} exited cleanly`);
  const logs = leaving.daemon.logs();
  const report = logs.find((line) => line.msg === 'handed the pending retries over to the live instances');
  t.ok(report, 'it says it handed its retries over');
  t.ok((report?.handed as number) >= waiting.length, `it handed ${report?.handed} over`);
  t.equal(report?.kept, 0, 'and kept none');

  await eventually(
    async () => {
      const summary = Object.values(await receiver.summary());
      return summary.every((p) => p.delivered === EVENTS) ? true : undefined;
    },
    (RETRY_AFTER_S + 120) * 1000,
    'every pair, the retries included',
  );
  const summary = await receiver.summary();
  for (const p of paths) {
    const { missing, unstable, unverified, failed } = summary[p];
    t.same(missing, [], `consumer ${p}: every event arrived`);
    t.equal(unstable, 0, `consumer ${p}: each retry kept the webhook-id of the request that failed`);
    t.equal(unverified, 0, `consumer ${p}: every signature verifies`);
    t.ok(failed > 0, `consumer ${p}: ${failed} first requests failed and were retried`);
  }

  // The handed-over messages live on in the others' stores, under the same ids, delivered by them.
  const others = instances.filter((instance) => instance !== leaving);
  const takenBy = new Map<string, number>();
  for (const [i, message] of waiting.slice(0, 50).entries()) {
    // Either live instance answers for it, and names the one whose store holds it.
    const asked = others[i % 2];
    const res = await fetch(`${asked.daemon.url}/v1/messages/${message.id}`);
    const body = await res.json();
    const holder = res.headers.get('hooksd-answered-by');
    t.equal(res.status, 200, `${message.id} found through ${asked.id}`);
    t.ok(
      others.some((other) => other.id === holder),
      `${message.id} is on ${holder}, one of the live instances`,
    );
    takenBy.set(String(holder), (takenBy.get(String(holder)) ?? 0) + 1);
    t.equal(body.status, 'success');
    const { body: attempts } = await asked.daemon.api(`/v1/messages/${message.id}/attempts`);
    t.equal(attempts.data.length, 2, 'its failed attempt came along, and the retry was added');
    t.ok(Date.parse(attempts.data[0].startedAt) >= stoppedAt - 1000, 'the retry ran after the hand-over');
  }
  t.comment(
    `${pending.length} pending on ${leaving.id}, ${report?.handed} handed over; taken by ` +
      JSON.stringify(Object.fromEntries(takenBy)) +
      `; all ${pairs} pairs delivered ${((Date.now() - started) / 1000).toFixed(1)} s after the first publish`,
  );
});

t.test('cluster - SIGTERM one instance with a backlog never attempted: the others deliver it, 0 lost', async (t) => {
  const events = Number(process.env.HOOKSD_CLUSTER_BACKLOG_EVENTS ?? 1500);
  // The consumer's rate limit keeps most messages waiting for their first attempt, in the
  // fan-out records and on disk, when the instance stops.
  const { cluster, receiver, instances } = await startLoadGroup(t, 'cluster-backlog-handover', {
    consumers: 1,
    prefix: 'b-',
    count: events,
    failEvery: 0,
    consumer: { rateLimit: 30 },
  });
  const [, , leaving] = instances;
  await groupFormed(leaving, 3);
  const nc = await connect({ servers: cluster.urls });
  t.teardown(() => nc.close());
  await publishAll(nc.jetstream(), 'b-', events);
  const untried = await eventually(
    async () => {
      // The list answers for the group: the leaving instance's own messages carry its tag.
      const never = (await listAll(leaving, '/v1/messages?status=sending')).filter(
        (m) => m.attempts === 0 && ownerTagOf(m.id, 'msg_') === instanceTag(leaving.id),
      );
      return never.length >= 50 ? never : undefined;
    },
    60_000,
    'a backlog on the leaving instance',
  );
  t.ok(untried.length >= 50, `${leaving.id} holds ${untried.length} messages never attempted`);

  t.equal(await leaving.daemon.stop('SIGTERM'), 0, `${leaving.id} exited cleanly`);
  const report = leaving.daemon
    .logs()
    .find((line) => line.msg === 'handed the pending retries over to the live instances');
  t.ok((report?.handed as number) >= untried.length, `it handed ${report?.handed} over`);
  t.equal(report?.kept, 0, 'and kept none');

  await eventually(
    async () => ((await receiver.summary())['/c0']?.delivered === events ? true : undefined),
    5 * 60_000,
    'every event, the handed-over backlog included',
  );
  const { missing, unverified, unstable } = (await receiver.summary())['/c0'];
  t.same(missing, [], 'every event arrived');
  t.equal(unverified, 0, 'every signature verifies');
  t.equal(unstable, 0, 'no webhook-id changed');
  const others = instances.filter((instance) => instance !== leaving);
  for (const [i, message] of untried.slice(0, 20).entries()) {
    // Either live instance answers for it, and names the one whose store holds it.
    const res = await fetch(`${others[i % 2].daemon.url}/v1/messages/${message.id}`);
    const holder = res.headers.get('hooksd-answered-by');
    t.equal(res.status, 200, `${message.id} found`);
    t.ok(
      others.some((other) => other.id === holder),
      `${message.id} lives on ${holder}, one of the live instances`,
    );
  }
});

t.test(
  'cluster - SIGTERM the only instance with a retry pending: it keeps the retry and sends it after restart',
  async (t) => {
    const dir = tempDir(t, 'cluster-alone');
    const nats = await startNatsProcess(t, `${dir}/nats`);
    // The first request fails; the retry, 8 s later, succeeds.
    const receiver = await startReceiver(t, (_request, index) => ({ status: index === 0 ? 500 : 200 }));
    const [alone] = await startInstances(
      t,
      dir,
      1,
      [nats.url],
      {
        eventTypes: [{ name: 'load.tick' }],
        consumers: [{ id: 'c0', url: receiver.url, retrySchedule: ['0s', '8s'] }],
      },
      1,
    );
    const nc = await connect({ servers: nats.url });
    t.teardown(() => nc.close());
    await publishAll(nc.jetstream(), 'alone-', 1);
    const [first] = await receiver.waitFor(1, 30_000);
    t.equal(await alone.daemon.stop('SIGTERM'), 0);
    t.ok(
      alone.daemon.logs().some((line) => line.msg.toString().startsWith('no other instance is alive')),
      'it says it keeps its retries',
    );
    await alone.start();
    const [, retry] = await receiver.waitFor(2, 60_000);
    t.equal(retry.headers['webhook-id'], first.headers['webhook-id'], 'the retry, with the same webhook-id');
    const { body } = await alone.daemon.api(`/v1/messages/${first.headers['webhook-id']}`);
    t.equal(body.status, 'success');
    t.equal(body.attempts, 2);
  },
);
