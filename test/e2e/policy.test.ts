import t, { type Test } from 'tap';
import type { NatsConnection } from 'nats';
import { startGateway } from '../helpers/gateway.js';
import { eventually, type Daemon } from '../helpers/hooksd.js';
import { startReceiver, type Responder } from '../helpers/receiver.js';

const network = { allowCidrs: ['127.0.0.0/8'] };

/** hooksd with one consumer answering as `respond` says (retries without jitter), and a NATS client. */
async function setUp(
  t: Test,
  respond: Responder,
  consumer: Record<string, unknown> = {},
  extra: { delivery?: Record<string, unknown>; schedule?: Record<string, unknown> } = {},
) {
  const receiver = await startReceiver(t, respond);
  const {
    daemon,
    nc,
    publish: publishEvent,
  } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    delivery: { network, ...extra.delivery },
    pipeline: [
      'eventTypes',
      'payloadFilter',
      'script',
      'standardWebhooks',
      { use: 'schedule', options: { jitter: 0, ...extra.schedule } },
    ],
    consumers: [{ id: 'target', url: receiver.url, ...consumer }],
  });
  const publish = () => publishEvent('company.created');
  return { receiver, daemon, nc, publish };
}

async function attemptsOf(daemon: Daemon, count: number) {
  return eventually(async () => {
    const { body } = await daemon.api('/v1/messages?consumerId=target');
    const message = body.data[0];
    if (!message || message.attempts < count) return undefined;
    return (await daemon.api(`/v1/messages/${message.id}/attempts`)).body.data.reverse();
  });
}

const gap = (received: { at: number }[], i: number) => received[i].at - received[i - 1].at;

/**
 * The delay hooksd chose after each of `attempts` that failed: from the attempt's end to the
 * next one's due time (said in its "attempt failed" log line). Unlike the gap between two
 * arrivals, it holds no timer running late or request on its way on a busy machine.
 */
function chosenDelays(daemon: Daemon, attempts: any[]): number[] {
  return attempts
    .filter((attempt) => attempt.outcome === 'failure')
    .map((attempt) => {
      const line = daemon
        .logs()
        .find((l) => l.msg === 'attempt failed' && l.messageId === attempt.messageId && l.attempt === attempt.attempt);
      if (line === undefined) throw new Error(`no log line for attempt ${attempt.attempt}`);
      return Date.parse(String(line.nextAttemptAt)) - (Date.parse(attempt.startedAt) + attempt.durationMs);
    });
}

/** `chosen` is `expected` ms, less a millisecond of rounding or plus the moment hooksd took to record the attempt. */
const about = (chosen: number, expected: number) => chosen >= expected - 1 && chosen <= expected + 250;

t.test('retry policy - honours Retry-After on 429, capped at 2x, and never below overloadFloor', async (t) => {
  const { receiver, daemon, publish } = await setUp(
    t,
    (_r, i) =>
      i === 0
        ? { status: 429, headers: { 'retry-after': '2' } }
        : i === 1
          ? { status: 429, headers: { 'retry-after': '60' } }
          : { status: 200 },
    { retrySchedule: ['0s', '1s', '800ms'] },
    { schedule: { overloadFloor: '1500ms' } },
  );
  await publish();
  const received = await receiver.waitFor(3, 30_000);
  const [first, second] = chosenDelays(daemon, await attemptsOf(daemon, 3));
  t.ok(about(first, 2000), `Retry-After 2 s within [1 s, 2 s] is followed (${first} ms chosen)`);
  t.ok(
    about(second, 1600),
    `Retry-After 60 s is capped at 2 x 800 ms, which is over the 1.5 s floor (${second} ms chosen)`,
  );
  // And the requests came when due: not before, and nowhere near the 60 s asked for.
  t.ok(gap(received, 1) >= 1950 && gap(received, 1) < 10_000, `waited ${gap(received, 1)} ms`);
  t.ok(gap(received, 2) >= 1550 && gap(received, 2) < 10_000, `waited ${gap(received, 2)} ms`);
});

t.test('retry policy - honours Retry-After on 503 within [delay, 2x delay]', async (t) => {
  const { receiver, daemon, publish } = await setUp(
    t,
    (_r, i) => (i === 0 ? { status: 503, headers: { 'retry-after': '30' } } : { status: 204 }),
    { retrySchedule: ['0s', '700ms'] },
  );
  await publish();
  const received = await receiver.waitFor(2, 20_000);
  const attempts = await attemptsOf(daemon, 2);
  const [chosen] = chosenDelays(daemon, attempts);
  t.ok(about(chosen, 1400), `2 x 700 ms chosen, not 30 s (${chosen} ms)`);
  t.ok(gap(received, 1) >= 1350 && gap(received, 1) < 10_000, `and waited (${gap(received, 1)} ms)`);
  t.equal(attempts[0].response.headers['retry-after'], '30', 'the response headers are recorded');
});

t.test('retry policy - a 3xx is a failure and the redirect is not followed', async (t) => {
  const elsewhere = await startReceiver(t);
  const { receiver, daemon, publish } = await setUp(t, () => ({ status: 301, headers: { location: elsewhere.url } }), {
    retrySchedule: ['0s'],
  });
  await publish();
  const [attempt] = await attemptsOf(daemon, 1);
  t.equal(attempt.outcome, 'failure');
  t.equal(attempt.response.statusCode, 301);
  t.equal(attempt.errorClass, 'http');
  t.equal(receiver.received.length, 1);
  t.equal(elsewhere.received.length, 0, 'the Location was never requested');
});

t.test('retry policy - a timeout is classified and the next try waits for overloadFloor', async (t) => {
  const { receiver, daemon, publish } = await setUp(
    t,
    (_r, i) => ({ status: 200, delayMs: i === 0 ? 3000 : 0 }),
    { timeout: '300ms', retrySchedule: ['0s', '100ms'] },
    { schedule: { overloadFloor: '1200ms' } },
  );
  await publish();
  const received = await receiver.waitFor(2, 20_000);
  t.ok(gap(received, 1) >= 300 + 1150, `the retry waited for the floor after the timeout (gap ${gap(received, 1)} ms)`);
  const attempts = await attemptsOf(daemon, 2);
  t.equal(attempts[0].errorClass, 'timeout');
  const [chosen] = chosenDelays(daemon, attempts);
  t.ok(about(chosen, 1200), `the 1.2 s floor chosen over the 100 ms of the schedule (${chosen} ms)`);
  // Not ended by the answer, which came 3 s after the request did.
  t.ok(
    attempts[0].durationMs >= 290 && attempts[0].durationMs < 3000,
    `the attempt was cut at the 300 ms timeout (${attempts[0].durationMs} ms)`,
  );
  t.equal(attempts[1].outcome, 'success');
});

t.test(
  'consumer health - 410 disables the consumer, announces it on NATS, and later messages are skipped, not lost',
  async (t) => {
    const { receiver, daemon, nc, publish } = await setUp(t, () => ({ status: 410 }));
    const ops = subscribe(nc, 'hooksd.ops.>');
    const first = await publish();
    const disabled = await ops.next('hooksd.ops.consumer.disabled');
    t.equal(disabled.eventType, 'consumer.disabled');
    t.equal(disabled.payload.consumerId, 'target');
    t.match(disabled.payload.reason, /410 Gone/);
    const second = await publish();
    const skipped = await eventually(async () => {
      const { body } = await daemon.api('/v1/messages?status=skipped');
      return body.data.length === 1 ? body.data[0] : undefined;
    });
    t.equal(skipped.eventId, second);
    t.match(skipped.lastError, /disabled/);
    t.equal(receiver.received.length, 1, 'nothing was sent after the 410');
    const firstMessage = (await daemon.api(`/v1/events/${first}`)).body.messages[0];
    t.equal(firstMessage.status, 'failure', 'the message that got the 410 is not retried');
  },
);

t.test(
  'consumer health - disabled after disableAfter of failures, with message.failure events on the way',
  async (t) => {
    const { receiver, nc, publish } = await setUp(
      t,
      () => ({ status: 500 }),
      { retrySchedule: ['0s', '300ms'] },
      { delivery: { disableAfter: '1s' } },
    );
    const ops = subscribe(nc, 'hooksd.ops.>');
    await publish();
    const failure = await ops.next('hooksd.ops.message.failure');
    t.equal(failure.payload.consumerId, 'target');
    t.equal(failure.payload.attempts, 2);
    t.equal(failure.payload.lastStatusCode, 500);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await publish();
    const disabled = await ops.next('hooksd.ops.consumer.disabled');
    t.match(disabled.payload.reason, /delivery\.disableAfter/);
    t.ok(receiver.received.length >= 3);
  },
);

function subscribe(nc: NatsConnection, subject: string) {
  const seen: { subject: string; data: any }[] = [];
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) seen.push({ subject: m.subject, data: JSON.parse(new TextDecoder().decode(m.data)) });
  })();
  return {
    next: (wanted: string) => eventually(() => seen.find((s) => s.subject === wanted)?.data, 20_000, wanted),
  };
}
