import t from 'tap';
import { startGateway, type Gateway } from '../helpers/gateway.js';
import { eventually, json, startDaemon, type Daemon, PIPELINE_WITHOUT_JITTER } from '../helpers/hooksd.js';
import { startReceiver, startReceivers, type Received } from '../helpers/receiver.js';

const post = (body?: unknown) => json('POST', body);

/** Publishes one event per payload, one after the other, and returns the event ids, in order. */
async function publish(gateway: Gateway, eventType: string, payloads: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (const payload of payloads) {
    ids.push(await gateway.publish(eventType, payload, { eventType, generatedDate: new Date().toISOString() }));
  }
  return ids;
}

const webhookId = (r: Received) => String(r.headers['webhook-id']);
const eventIdOf = (r: Received) => JSON.parse(r.body.toString()).id as string;
const sorted = (values: string[]) => [...values].sort();

/** How many times each value occurs. */
function counts(values: string[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const value of values) seen.set(value, (seen.get(value) ?? 0) + 1);
  return seen;
}

async function messagesOf(daemon: Daemon, consumerId: string, status?: string): Promise<any[]> {
  const { status: code, body } = await daemon.api(
    `/v1/messages?consumerId=${consumerId}&limit=250${status === undefined ? '' : `&status=${status}`}`,
  );
  if (code !== 200) throw new Error(`GET /v1/messages answered ${code}: ${JSON.stringify(body)}`);
  return body.data;
}

/** Waits until the consumer has exactly `count` messages with `status`, and returns them. */
function messagesWith(
  daemon: Daemon,
  consumerId: string,
  status: string,
  count: number,
  timeoutMs = 20_000,
): Promise<any[]> {
  return eventually(
    async () => {
      const data = await messagesOf(daemon, consumerId, status);
      return data.length === count ? data : undefined;
    },
    timeoutMs,
    `${count} ${status} messages of ${consumerId}`,
  );
}

function taskDone(daemon: Daemon, taskId: string, timeoutMs = 20_000): Promise<any> {
  return eventually(
    async () => {
      const { status, body } = await daemon.api(`/v1/tasks/${taskId}`);
      if (status !== 200) throw new Error(`GET /v1/tasks/${taskId} answered ${status}: ${JSON.stringify(body)}`);
      if (body.status === 'failed') throw new Error(`task ${taskId} failed: ${body.error}`);
      return body.status === 'done' ? body : undefined;
    },
    timeoutMs,
    `task ${taskId} to be done`,
  );
}

/** The smallest gap between consecutive arrivals, in ms. */
function smallestGap(received: Received[]): number {
  let smallest = Infinity;
  for (let i = 1; i < received.length; i++) smallest = Math.min(smallest, received[i].at - received[i - 1].at);
  return smallest;
}

t.test(
  'recover - after an outage resends exactly the failed messages up to until, once each, with their webhook-id',
  async (t) => {
    let outage = false;
    const receiver = await startReceiver(t, () => ({ status: outage ? 500 : 200 }));
    const gateway = await startGateway(t, {
      eventTypes: [{ name: 'order.created' }],
      pipeline: PIPELINE_WITHOUT_JITTER,
      consumers: [{ id: 'orders', url: receiver.url, retrySchedule: ['0s'] }],
    });
    const { daemon } = gateway;

    const since = new Date(Date.now() - 1000).toISOString();
    await publish(gateway, 'order.created', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const delivered = await messagesWith(daemon, 'orders', 'success', 3);

    outage = true;
    await publish(gateway, 'order.created', [{ n: 4 }, { n: 5 }, { n: 6 }, { n: 7 }]);
    const failed = await messagesWith(daemon, 'orders', 'failure', 4);
    const failedIds = failed.map((m) => m.id as string);
    const until = new Date().toISOString();
    // One more failure, created after `until`: recover must leave it alone.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await publish(gateway, 'order.created', [{ n: 8 }]);
    const late = (await messagesWith(daemon, 'orders', 'failure', 5)).find((m) => !failedIds.includes(m.id));
    t.ok(late, 'a failure after until');
    await receiver.waitFor(8);
    t.same(
      sorted(receiver.received.slice(3, 7).map(webhookId)),
      sorted(failedIds),
      'the outage answered 500 to the four messages, once each (one-attempt schedule)',
    );

    outage = false;
    const before = receiver.received.length;
    const created = await daemon.api('/v1/consumers/orders/recover', post({ since, until }));
    t.equal(created.status, 202, 'recover answers 202');
    t.match(
      created.body,
      { id: /^task_/, kind: 'recover', consumerId: 'orders', status: /^(running|done)$/, since, until, error: null },
      'with the task',
    );
    t.notOk('position' in created.body || 'pending' in created.body, 'internal bookkeeping is not shown');

    const done = await taskDone(daemon, created.body.id);
    t.match(
      done,
      { id: created.body.id, kind: 'recover', status: 'done', examined: 7, sent: 4, error: null },
      'the task looked at the 7 messages of the range and resent the 4 failed ones',
    );
    t.type(done.finishedAt, 'string');

    const resent = (await receiver.waitFor(before + 4)).slice(before);
    t.same(
      sorted(resent.map(webhookId)),
      sorted(failedIds),
      'the receiver got exactly the failed messages, with their original webhook-id',
    );
    t.equal(new Set(resent.map(webhookId)).size, 4, 'each once');
    const originalBodies = new Map(receiver.received.slice(3, 7).map((r) => [webhookId(r), r.body.toString()]));
    t.ok(
      resent.every((r) => originalBodies.get(webhookId(r)) === r.body.toString()),
      'with the same body as the first attempt',
    );
    t.notOk(
      resent.some((r) => delivered.some((m) => m.id === webhookId(r))),
      'the messages delivered before the outage were not resent',
    );

    const succeeded = await messagesWith(daemon, 'orders', 'success', 7);
    t.same(
      sorted(succeeded.map((m) => m.id)),
      sorted([...delivered.map((m) => m.id), ...failedIds]),
      'the recovered messages are now success',
    );
    t.same(
      (await messagesOf(daemon, 'orders', 'failure')).map((m) => m.id),
      [late.id],
      'the failure created after until is still failed',
    );
    for (const id of failedIds) {
      const { body } = await daemon.api(`/v1/messages/${id}/attempts`);
      t.same(
        body.data.map((a: any) => [a.attempt, a.trigger, a.outcome, a.response?.statusCode]),
        [
          [2, 'manual', 'success', 200],
          [1, 'scheduled', 'failure', 500],
        ],
        `${id}: one manual attempt after the failed one`,
      );
    }
    t.equal(receiver.received.length, before + 4, 'nothing else was sent');
  },
);

t.test(
  'replay-missing - a consumer created after the events gets the matching ones once, and a second run sends nothing',
  async (t) => {
    const [audit, lateReceiver] = await startReceivers(t, 2);
    const gateway = await startGateway(t, {
      eventTypes: [{ name: 'order.created' }, { name: 'invoice.paid' }],
      consumers: [{ id: 'audit', url: audit.url, eventTypes: ['order.created', 'invoice.paid'] }],
    });
    const { daemon } = gateway;

    const since = new Date(Date.now() - 1000).toISOString();
    const orders = await publish(gateway, 'order.created', [
      { region: 'eu' },
      { region: 'us' },
      { region: 'eu' },
      { region: 'us' },
    ]);
    await publish(gateway, 'invoice.paid', [{ region: 'eu' }, { region: 'eu' }, { region: 'us' }]);
    await audit.waitFor(7);

    const created = await daemon.api(
      '/v1/consumers',
      post({
        id: 'late',
        url: lateReceiver.url,
        eventTypes: ['order.created'],
        filter: { 'payload.region': { $eq: 'eu' } },
      }),
    );
    t.equal(created.status, 201, 'the API consumer is created');
    // An event published once the consumer exists reaches it live; replay-missing must not send it again.
    const [live] = await publish(gateway, 'order.created', [{ region: 'eu' }]);
    await lateReceiver.waitFor(1);
    t.equal(eventIdOf(lateReceiver.received[0]), live);

    const first = await daemon.api('/v1/consumers/late/replay-missing', post({ since }));
    t.equal(first.status, 202, 'replay-missing answers 202');
    t.match(first.body, {
      id: /^task_/,
      kind: 'replay-missing',
      consumerId: 'late',
      status: /^(running|done)$/,
      since,
      until: null,
    });
    const done = await taskDone(daemon, first.body.id);
    t.match(
      done,
      { status: 'done', examined: 8, sent: 2, error: null },
      'looked at every event since `since`, sent the two it matches and never got',
    );

    const received = await lateReceiver.waitFor(3);
    t.same(
      sorted(received.map(eventIdOf)),
      sorted([orders[0], orders[2], live]),
      'exactly the matching events (type and payload filter)',
    );
    t.ok(
      [...counts(received.map(eventIdOf)).values()].every((n) => n === 1),
      'each once',
    );
    const messages = await messagesWith(daemon, 'late', 'success', 3);
    t.same(
      sorted(messages.map((m) => m.id)),
      sorted(received.map(webhookId)),
      'as messages of the consumer, each with its own webhook-id',
    );

    const second = await daemon.api('/v1/consumers/late/replay-missing', post({ since }));
    t.equal(second.status, 202);
    t.not(second.body.id, first.body.id, 'a new task');
    t.match(
      await taskDone(daemon, second.body.id),
      { status: 'done', examined: 8, sent: 0 },
      'a second run finds nothing missing',
    );
    t.equal((await messagesOf(daemon, 'late')).length, 3, 'and creates no message');
    t.equal(lateReceiver.received.length, 3, 'and sends nothing');
    t.equal((await messagesOf(daemon, 'audit')).length, 8, 'the other consumer is untouched');
  },
);

t.test(
  'restart - recover and replay-missing paced by rateLimit, running at SIGTERM, resume and finish after a restart',
  async (t) => {
    const N = 25;
    const RATE = 5;
    let outage = true;
    const receiver = await startReceiver(t, () => ({ status: outage ? 500 : 200 }));
    const lateReceiver = await startReceiver(t);
    const gateway = await startGateway(t, {
      eventTypes: [{ name: 'order.created' }],
      pipeline: PIPELINE_WITHOUT_JITTER,
      consumers: [{ id: 'slow', url: receiver.url, retrySchedule: ['0s'], rateLimit: RATE, concurrency: 2 }],
    });
    let { daemon } = gateway;

    const since = new Date(Date.now() - 1000).toISOString();
    const events = await publish(
      gateway,
      'order.created',
      Array.from({ length: N }, (_, n) => ({ n })),
    );
    const failed = await messagesWith(daemon, 'slow', 'failure', N, 30_000);
    const failedIds = failed.map((m) => m.id as string);
    t.equal(
      (
        await daemon.api(
          '/v1/consumers',
          post({ id: 'late', url: lateReceiver.url, eventTypes: ['order.created'], rateLimit: RATE, concurrency: 2 }),
        )
      ).status,
      201,
    );

    outage = false;
    const mark = receiver.received.length;
    t.equal(mark, N, 'one failed attempt per message');
    const recover = await daemon.api('/v1/consumers/slow/recover', post({ since }));
    const replay = await daemon.api('/v1/consumers/late/replay-missing', post({ since }));
    t.equal(recover.status, 202);
    t.equal(replay.status, 202);

    // A few deliveries in, while both tasks still have most of their work ahead: stop hooksd.
    await eventually(
      () => (receiver.received.length >= mark + 4 && lateReceiver.received.length >= 4 ? true : undefined),
      20_000,
      'the tasks to start sending',
    );
    const progress: Record<string, any> = {};
    for (const task of [recover.body, replay.body]) {
      const { body } = await daemon.api(`/v1/tasks/${task.id}`);
      progress[task.kind] = body;
      t.equal(body.status, 'running', `${task.kind} is still running after a few deliveries`);
      t.ok(body.sent > 0 && body.sent < N, `${task.kind} shows partial progress (sent ${body.sent} of ${N})`);
      t.ok(body.examined < N, `${task.kind} has not looked at everything yet (examined ${body.examined})`);
    }
    t.equal(await daemon.stop(), 0, 'hooksd stops cleanly on SIGTERM');
    const firstRun = { recover: receiver.received.length, replay: lateReceiver.received.length };
    t.ok(
      firstRun.recover - mark < N && firstRun.replay < N,
      `work is left for after the restart (recover ${firstRun.recover - mark}, replay ${firstRun.replay} of ${N})`,
    );

    daemon = await startDaemon(t, gateway.configFile);
    for (const task of [recover.body, replay.body]) {
      const { body } = await daemon.api(`/v1/tasks/${task.id}`);
      t.ok(body.status === 'running' || body.status === 'done', `${task.kind} is known after the restart`);
      t.ok(body.sent >= progress[task.kind].sent, `${task.kind} kept its progress (sent ${body.sent})`);
    }
    const [recovered, replayed] = await Promise.all([
      taskDone(daemon, recover.body.id, 30_000),
      taskDone(daemon, replay.body.id, 30_000),
    ]);
    t.match(
      recovered,
      { status: 'done', examined: N, sent: N },
      'recover finished after the restart, every failed message resent',
    );
    t.match(
      replayed,
      { status: 'done', examined: N, sent: N },
      'replay-missing finished after the restart, every event sent',
    );

    await messagesWith(daemon, 'slow', 'success', N);
    await messagesWith(daemon, 'late', 'success', N);
    const resent = receiver.received.slice(mark);
    t.same(
      sorted([...new Set(resent.map(webhookId))]),
      sorted(failedIds),
      'every failed message arrived again, with its webhook-id',
    );
    // Attempts in flight at SIGTERM finish before hooksd exits and are recorded, so none is sent twice.
    t.equal(resent.length, N, 'each once');
    t.same(sorted(lateReceiver.received.map(eventIdOf)), sorted(events), 'the late consumer got every event');
    t.equal(lateReceiver.received.length, N, 'each once');

    // Pacing: the consumer's rateLimit holds within each run. Arrival times carry some latency
    // jitter (the first request of a run sets up a connection), so a gap may be a little short of
    // the interval, but never a burst; and a run's arrivals span their intervals.
    const interval = 1000 / RATE;
    for (const [name, arrivals] of [
      ['recover, first run', receiver.received.slice(mark, firstRun.recover)],
      ['recover, second run', receiver.received.slice(firstRun.recover)],
      ['replay-missing, first run', lateReceiver.received.slice(0, firstRun.replay)],
      ['replay-missing, second run', lateReceiver.received.slice(firstRun.replay)],
    ] as const) {
      const span = arrivals[arrivals.length - 1].at - arrivals[0].at;
      t.ok(smallestGap(arrivals) >= interval / 2, `${name}: no burst (smallest gap ${smallestGap(arrivals)} ms)`);
      t.ok(
        span >= (arrivals.length - 1) * interval - 100,
        `${name}: ${arrivals.length} messages at ${RATE}/s took ${span} ms`,
      );
    }
    const span = (arrivals: Received[]) => arrivals[arrivals.length - 1].at - arrivals[0].at;
    t.ok(
      span(resent) >= (N - 1) * interval * 0.9 && span(lateReceiver.received) >= (N - 1) * interval * 0.9,
      `${N} messages at ${RATE}/s took at least ${((N - 1) * interval * 0.9) / 1000} s`,
    );
  },
);
