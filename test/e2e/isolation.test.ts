import t from 'tap';
import { startGateway } from '../helpers/gateway.js';
import { startReceiver, type Received } from '../helpers/receiver.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('rate limit - 10 requests per second for 5 s lands within 10 % of 50 requests', async (t) => {
  const receiver = await startReceiver(t);
  const { publish } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'limited', url: receiver.url, rateLimit: 10 }],
  });
  await Promise.all(Array.from({ length: 120 }, () => publish('company.created')));
  const [first] = await receiver.waitFor(1);
  await sleep(5000 - (Date.now() - first.at) + 500);
  const inWindow = receiver.received.filter((r) => r.at - first.at < 5000).length;
  t.ok(inWindow >= 45 && inWindow <= 55, `${inWindow} requests in the first 5 s`);
});

t.test('rate limit - holds when events trickle in one at a time, not only when they queue', async (t) => {
  const receiver = await startReceiver(t);
  const { publish } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'limited', url: receiver.url, rateLimit: 4 }],
  });
  // A first request opens the connection, so later arrival gaps show the spacing, not the set-up;
  // the pause after it (more than the 250 ms interval) lets the next one go at once.
  await publish('company.created');
  await receiver.waitFor(1);
  await sleep(300);
  for (let i = 0; i < 8; i += 1) {
    await publish('company.created');
    await sleep(100);
  }
  const arrivals = (await receiver.waitFor(9)).slice(1).map((r) => r.at);
  const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]);
  // hooksd starts them at least 95 % of the 250 ms interval apart; an arrival may be late by the
  // time a busy machine takes to carry a request, which shortens the gap after it as much. So no gap
  // may come near the 100 ms they were published apart, and the eight together span their intervals
  // (the lateness counts once, at the ends).
  t.ok(Math.min(...gaps) >= 150, `gaps between requests ${gaps.join(', ')} ms: none near the 100 ms of publishing`);
  const span = arrivals[arrivals.length - 1] - arrivals[0];
  t.ok(span >= 7 * 250 * 0.95 - 50, `the 8 requests span ${span} ms: 7 intervals of 250 ms (less timer slack)`);
});

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

t.test('isolation - a consumer hanging until its timeout does not slow another consumer down', async (t) => {
  const fast = await startReceiver(t);
  const hanging = await startReceiver(t, () => ({ status: 200, delayMs: 30_000 }));
  const { publish } = await startGateway(t, {
    eventTypes: [{ name: 'alone.sent' }, { name: 'shared.sent' }],
    consumers: [
      { id: 'fast', url: fast.url, eventTypes: ['alone.sent', 'shared.sent'] },
      { id: 'hanging', url: hanging.url, eventTypes: ['shared.sent'], timeout: '3s', concurrency: 8 },
    ],
  });
  const latencies = (received: Received[], kind: string) =>
    received
      .map((r) => ({ at: r.at, payload: JSON.parse(r.body.toString()).payload }))
      .filter(({ payload }) => payload.kind === kind)
      .map(({ at, payload }) => at - payload.sentAt);
  const send = async (type: string) => {
    await publish(type, { sentAt: Date.now(), kind: type });
    await sleep(10);
  };

  for (let i = 0; i < 100; i++) await send('alone.sent');
  await fast.waitFor(100);
  // Both kinds in turn in one run, so that whatever else loads the machine meanwhile weighs on both
  // alike (two runs one after the other compared a quiet moment with a busy one).
  for (let i = 0; i < 300; i++) {
    await send('alone.sent');
    await send('shared.sent');
  }
  const measured = (await fast.waitFor(700)).slice(100);
  const alone = p50(latencies(measured, 'alone.sent'));
  const shared = p50(latencies(measured, 'shared.sent'));
  t.ok(
    hanging.received.length >= 8,
    `the hanging consumer had its lane full (${hanging.received.length} requests hanging)`,
  );
  // A lane blocked by the hanging consumer would cost seconds (its 3 s timeout); a shared event's
  // own work (a message for each consumer) may cost a little more, so the margin is 50 % plus 10 ms.
  t.ok(shared <= alone * 1.5 + 10, `p50 ${shared} ms with a consumer hanging, ${alone} ms without`);
});
