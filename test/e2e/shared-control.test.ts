import t from 'tap';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { Webhook } from 'standardwebhooks';
import { eventually, json } from '../helpers/hooksd.js';
import { startInProcess, type InProcess } from '../helpers/in-process.js';
import { startNats, type TestNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

/** How long a change may take to cross the control bucket (a NATS KV watch) on a busy machine. */
const ACROSS_NATS_MS = 30_000;

/**
 * Two hooksd instances, each with its own store, on one nats-server share the control bucket.
 * Each reads the events with a durable of its own, so that each delivers every event and what
 * one instance does can be seen apart from the other.
 */
async function twoInstances(t: Parameters<Parameters<typeof t.test>[1]>[0], nats: TestNats, config: object) {
  const start = (id: string) =>
    startInProcess(t, {
      instance: { id },
      nats: { servers: [nats.url], durable: `hooksd-${id}` },
      eventTypes: [{ name: 'order.placed' }],
      ...config,
    });
  const a = await start('a');
  const b = await start('b');
  return { a, b };
}

const publish = (hooksd: InProcess, n: number) =>
  hooksd.api('/v1/events', json('POST', { eventType: 'order.placed', payload: { n } }));

/** The messages in this instance's own store (the API's list answers for the whole group). */
const messagesOf = async (hooksd: InProcess, consumerId: string) =>
  (await hooksd.app.store.lists.messages({ limit: 100, consumerId })).data;

t.test('shared control - a consumer disabled through A stops delivering on B (propagation measured)', async (t) => {
  const nats = await startNats(t);
  const receiver = await startReceiver(t);
  const { a, b } = await twoInstances(t, nats, { consumers: [{ id: 'shop', url: receiver.url }] });
  t.equal((await publish(a, 0)).status, 202);
  await receiver.waitFor(2);
  t.equal(receiver.received.length, 2, 'before: both instances deliver the event');

  // Disable through A and enable again, five times; B's API is asked every few ms meanwhile.
  const took: number[] = [];
  for (let round = 0; round < 5; round++) {
    for (const [action, disabled] of [
      ['disable', true],
      ['enable', false],
    ] as const) {
      const answer = await a.api(`/v1/consumers/shop/${action}`, json('POST'));
      t.equal(answer.status, 200, `${action} through A`);
      const done = performance.now();
      await eventually(
        async () => ((await b.api('/v1/consumers/shop')).body.disabled === disabled ? true : undefined),
        ACROSS_NATS_MS,
        `B to see ${action}`,
      );
      took.push(performance.now() - done);
    }
  }
  took.sort((x, y) => x - y);
  const median = took[Math.floor(took.length / 2)];
  t.comment(
    `A's change seen by B's API after ${took.map((ms) => ms.toFixed(1)).join(', ')} ms ` +
      `(median ${median.toFixed(1)} ms)`,
  );
  t.ok(
    took.every((ms) => ms < ACROSS_NATS_MS),
    'every change reached B',
  );

  await a.api('/v1/consumers/shop/disable', json('POST'));
  await eventually(async () => ((await b.api('/v1/consumers/shop')).body.disabled ? true : undefined), ACROSS_NATS_MS);
  const shown = (await b.api('/v1/consumers/shop')).body;
  t.equal(shown.disabledReason, 'disabled through the API', 'B shows the reason given on A');
  t.equal((await publish(b, 1)).status, 202);
  for (const hooksd of [a, b]) {
    const skipped = await eventually(async () => {
      const messages = await messagesOf(hooksd, 'shop');
      return messages.length === 2 && messages.every((m) => m.status !== 'sending') ? messages : undefined;
    }, 20_000);
    t.same(
      skipped.map((m) => m.status).sort(),
      ['skipped', 'success'],
      'each instance skipped the new event for the disabled consumer',
    );
  }
  t.equal(receiver.received.length, 2, 'nothing more was delivered');
});

t.test(
  'shared control - an API consumer created through A delivers from B; a secret rotated through B signs on A',
  async (t) => {
    const nats = await startNats(t);
    const receiver = await startReceiver(t);
    const { a, b } = await twoInstances(t, nats, {});
    const created = await a.api(
      '/v1/consumers',
      json('POST', { id: 'made.on-a', url: receiver.url, eventTypes: ['order.placed'], retrySchedule: ['0s'] }),
    );
    t.equal(created.status, 201);
    const first: string = created.body.secret;
    await eventually(
      async () => ((await b.api('/v1/consumers/made.on-a')).status === 200 ? true : undefined),
      ACROSS_NATS_MS,
      'B to know the consumer',
    );
    t.equal((await publish(b, 0)).status, 202);
    await receiver.waitFor(2);
    for (const request of receiver.received)
      t.doesNotThrow(
        () => new Webhook(first).verify(request.body.toString(), request.headers as Record<string, string>),
        'signed with the secret made on A',
      );

    const rotated = await b.api('/v1/consumers/made.on-a/secret/rotate', json('POST', { graceSeconds: 0 }));
    t.equal(rotated.status, 200);
    const second: string = rotated.body.secret;
    t.not(second, first);
    // Events through A until one of A's deliveries verifies with the new secret; every later one must too.
    const rotatedAt = performance.now();
    const signedByA = async (n: number) => {
      t.equal((await publish(a, n)).status, 202);
      const event = await eventually(async () => {
        const messages = (await messagesOf(a, 'made.on-a')).filter((m) => m.status !== 'sending');
        return messages.length === n + 1 ? messages[0] : undefined;
      }, 20_000);
      const request = await eventually(() => receiver.received.find((r) => r.headers['webhook-id'] === event.id));
      const verifies = (secret: string) => {
        try {
          new Webhook(secret).verify(request.body.toString(), request.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      };
      return { newSecret: verifies(second), oldSecret: verifies(first) };
    };
    let n = 1;
    for (; ; n++) {
      const signed = await signedByA(n);
      if (signed.newSecret) {
        t.notOk(signed.oldSecret, 'with no grace period, A no longer signs with the old secret');
        break;
      }
      if (performance.now() - rotatedAt > ACROSS_NATS_MS) {
        t.fail('A never signed with the secret rotated through B');
        break;
      }
    }
    t.comment(
      `A signed with B's new secret from its event ${n} on, ` +
        `${(performance.now() - rotatedAt).toFixed(0)} ms after the rotation`,
    );
    t.same(await signedByA(n + 1), { newSecret: true, oldSecret: false }, 'and keeps doing so');

    const removed = await b.api('/v1/consumers/made.on-a', { method: 'DELETE' });
    t.equal(removed.status, 204);
    await eventually(
      async () => ((await a.api('/v1/consumers/made.on-a')).status === 404 ? true : undefined),
      ACROSS_NATS_MS,
      'A to forget it',
    );
  },
);

t.test(
  'shared control - two instances that both see a consumer fail disable it once: one record, one ops event',
  async (t) => {
    const nats = await startNats(t);
    const receiver = await startReceiver(t, () => ({ status: 500 }));
    const nc = await connect({ servers: nats.url });
    t.teardown(() => nc.close());
    const announced: unknown[] = [];
    const sub = nc.subscribe('hooksd.ops.consumer.disabled', { callback: (_err, msg) => announced.push(msg.json()) });
    await nc.flush();
    const { a, b } = await twoInstances(t, nats, {
      delivery: { disableAfter: '2s', network: { allowCidrs: ['127.0.0.0/8'] } },
      consumers: [{ id: 'down', url: receiver.url, retrySchedule: ['0s'] }],
    });
    let n = 0;
    const disabledOn = async (hooksd: InProcess) => (await hooksd.api('/v1/consumers/down')).body.disabled === true;
    await eventually(
      async () => {
        // The same event reaches both instances, which fail on it at about the same time.
        await nc.jetstream().publish('events.order.placed', JSON.stringify({ id: `e${n++}`, payload: {} }));
        return (await disabledOn(a)) && (await disabledOn(b)) ? true : undefined;
      },
      ACROSS_NATS_MS,
      'the consumer to be disabled',
    );
    // Failures in flight when it was disabled finish meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    sub.unsubscribe();
    t.ok(n >= 2, `${n} events were sent, each failing on both instances`);
    t.equal(announced.length, 1, 'one consumer.disabled event for the group');
    const logged = [...a.logs(), ...b.logs()].filter((line) => line.opsEvent === 'consumer.disabled');
    t.equal(logged.length, 1, 'one instance disabled it: the other found it disabled already');
    const [onA, onB] = [(await a.api('/v1/consumers/down')).body, (await b.api('/v1/consumers/down')).body];
    t.match(onA.disabledReason, /every attempt failed since .* \(delivery.disableAfter\)/);
    t.equal(onB.disabledReason, onA.disabledReason, 'both show the one record');
    const skippedOnEach = await Promise.all([a, b].map(async (hooksd) => (await messagesOf(hooksd, 'down')).length));
    t.ok(
      skippedOnEach.every((count) => count > 0),
      `both instances delivered and failed (${skippedOnEach.join(' and ')} messages)`,
    );
  },
);

t.test(
  'shared control - an instance whose YAML consumers differ says so in its log and /readyz, and stays ready',
  async (t) => {
    const nats = await startNats(t);
    const receiver = await startReceiver(t);
    const { a, b } = await twoInstances(t, nats, { consumers: [{ id: 'shop', url: receiver.url }] });
    for (const hooksd of [a, b]) {
      const ready = await hooksd.api('/readyz');
      t.same([ready.status, ready.body.details], [200, {}], 'the same YAML: nothing to report');
    }
    await b.reconfigure((config) => ({ ...config, consumers: [{ id: 'shop', url: receiver.url, timeout: '3s' }] }));
    const said = await eventually(async () => {
      const ready = await b.api('/readyz');
      return ready.body.details.config === undefined ? undefined : ready;
    }, ACROSS_NATS_MS);
    t.equal(said.status, 200, 'B is still ready');
    t.match(said.body.details.config, /differ from those of a: every instance should read the same file/);
    const onA = await eventually(
      async () => (await a.api('/readyz')).body.details.config as string | undefined,
      ACROSS_NATS_MS,
    );
    t.match(onA, /differ from those of b/, 'A says so too: it cannot tell which one is right');
    const warned = (hooksd: InProcess) =>
      hooksd
        .logs()
        .filter((line) => String(line.msg).startsWith("this instance's consumers in the config file differ"));
    await eventually(() => (warned(b).length > 0 ? true : undefined));
    t.same(warned(b)[0].differentFrom, ['a']);
    // Said once per change: a reload with the same different YAML says nothing more (checked
    // below, once a later reload that makes the files agree has been logged).
    await b.reconfigure((config) => config);
    await b.reconfigure((config) => ({ ...config, consumers: [{ id: 'shop', url: receiver.url }] }));
    await eventually(
      async () => (Object.keys((await b.api('/readyz')).body.details).length === 0 ? true : undefined),
      ACROSS_NATS_MS,
    );
    await eventually(
      async () => (Object.keys((await a.api('/readyz')).body.details).length === 0 ? true : undefined),
      ACROSS_NATS_MS,
    );
    t.ok(
      b.logs().some((line) => line.msg === 'the consumers in the config file are the same on every instance now'),
      'and that it is the same again',
    );
    t.equal(warned(b).length, 1, 'said once: the reload with the same YAML, before that, said nothing more');
  },
);

t.test('shared control - a success on one instance stops the failure clock another instance started', async (t) => {
  const nats = await startNats(t);
  // The same consumer, reached from A at an address that fails and from B at one that answers, slowly.
  const failing = await startReceiver(t, () => ({ status: 500 }));
  const slow = await startReceiver(t, () => ({ status: 200, delayMs: 3000 }));
  const start = (id: string, url: string) =>
    startInProcess(t, {
      instance: { id },
      nats: { servers: [nats.url], durable: `hooksd-${id}` },
      eventTypes: [{ name: 'order.placed' }],
      consumers: [{ id: 'flaky', url, retrySchedule: ['0s'] }],
    });
  const a = await start('a', failing.url);
  const b = await start('b', slow.url);
  t.equal((await publish(a, 0)).status, 202);
  const started = await eventually(async () => (await b.api('/v1/consumers/flaky')).body.failingSince ?? undefined);
  t.type(started, 'string', "A's failure started the clock, seen on B");
  await slow.waitFor(1);
  await eventually(async () => ((await a.api('/v1/consumers/flaky')).body.failingSince === null ? true : undefined));
  t.pass("B's success stopped it, seen on A");
  t.same(
    (await messagesOf(a, 'flaky')).map((m) => m.status),
    ['failure'],
    'A itself only ever failed',
  );
});
