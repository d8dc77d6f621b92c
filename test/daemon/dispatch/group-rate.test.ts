import t from 'tap';
import { presenceSubject } from '../../../daemon/common/subjects.js';
import { eventually, natsClient } from '../../helpers/hooksd.js';
import { metricSum } from '../../helpers/hooksd-group.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

/**
 * One hooksd and a second instance that only announces itself on the presence subject (the real
 * protocol, over the real nats-server): hooksd takes half of the consumer's rate and concurrency while the
 * other is live, and the whole again once it leaves or falls silent.
 */
t.setTimeout(240_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('group limits - a lone instance sends half the rate while another is live, all of it again after', async (t) => {
  const receiver = await startReceiver(t);
  const { url, nats, logs } = await startInProcess(t, {
    instance: { id: 'hooksd-a' },
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'limited', url: receiver.url, rateLimit: 10, concurrency: 5 }],
  });
  const nc = await natsClient(t, nats!.url);
  const subject = presenceSubject('HOOKS_EVENTS');
  const startedAt = Date.now();
  const announce = (kind: 'hello' | 'here' | 'leaving') =>
    nc.publish(subject, JSON.stringify({ id: 'hooksd-b', tag: 'zzzzz', startedAt, process: 'test', kind }));
  const shares = async () => {
    const text = await (await fetch(url + '/metrics')).text();
    return {
      rate: metricSum(text, 'hooksd_consumer_rate_share', { consumer: 'limited' }),
      concurrency: metricSum(text, 'hooksd_consumer_concurrency_share', { consumer: 'limited' }),
    };
  };
  const sharesBecome = (rate: number, what: string) =>
    eventually(async () => ((await shares()).rate === rate ? shares() : undefined), 30_000, what);

  t.same(await shares(), { rate: 10, concurrency: 5 }, 'alone: the whole limits');
  announce('hello');
  const here = setInterval(() => announce('here'), 2000);
  t.teardown(() => clearInterval(here));
  const half = await sharesBecome(5, 'the share halves');
  t.ok(half.concurrency === 2 || half.concurrency === 3, `concurrency 5 over 2: ${half.concurrency} here`);
  const changed = logs().filter((line) => String(line.msg).includes('shared anew'));
  t.equal(changed.at(-1)?.instances, 2, 'the change is logged with the number of instances');

  // A backlog: 200 events at once, sent at 5/s while the other instance is live.
  const js = nc.jetstream();
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      js.publish('events.company.created', JSON.stringify({ id: `e-${i}`, payload: {} })),
    ),
  );
  const [first] = await receiver.waitFor(1, 60_000);
  await sleep(10_500);
  const halfRate = receiver.received.filter((r) => r.at > first.at && r.at <= first.at + 10_000).length / 10;
  t.ok(halfRate >= 4.5 && halfRate <= 5.5, `${halfRate}/s while 2 instances are live (5/s ± 10 %)`);

  // It leaves: the whole rate at once.
  clearInterval(here);
  announce('leaving');
  await sharesBecome(10, 'the whole rate after the other left');
  const from = Date.now();
  await sleep(8_500);
  const wholeRate = receiver.received.filter((r) => r.at > from + 500 && r.at <= from + 8_500).length / 8;
  t.ok(wholeRate >= 9 && wholeRate <= 11, `${wholeRate}/s once alone again (10/s ± 10 %)`);

  // It comes back and falls silent without a word: gone after 6 s.
  announce('hello');
  const lastWord = Date.now();
  await sharesBecome(5, 'halved again');
  await sharesBecome(10, 'the whole rate once the silent instance counts as gone');
  const after = Date.now() - lastWord;
  t.ok(after >= 5500 && after < 20_000, `the silent instance counted as gone ${after} ms after its last word (6 s)`);
});

t.test(
  'group limits - concurrency 4 with another instance live: 2 requests in flight here, 4 once it left',
  async (t) => {
    const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 1000 }));
    const { url, nats } = await startInProcess(t, {
      instance: { id: 'hooksd-a' },
      eventTypes: [{ name: 'company.created' }],
      consumers: [{ id: 'slow', url: receiver.url, concurrency: 4 }],
    });
    const nc = await natsClient(t, nats!.url);
    const subject = presenceSubject('HOOKS_EVENTS');
    const startedAt = Date.now();
    const announce = (kind: 'hello' | 'here' | 'leaving') =>
      nc.publish(subject, JSON.stringify({ id: 'hooksd-b', tag: 'zzzzz', startedAt, process: 'test', kind }));
    announce('hello');
    const here = setInterval(() => announce('here'), 2000);
    t.teardown(() => clearInterval(here));
    await eventually(
      async () => {
        const text = await (await fetch(url + '/metrics')).text();
        return metricSum(text, 'hooksd_consumer_concurrency_share', { consumer: 'slow' }) === 2 ? true : undefined;
      },
      30_000,
      'half of the concurrency',
    );

    const js = nc.jetstream();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        js.publish('events.company.created', JSON.stringify({ id: `s-${i}`, payload: {} })),
      ),
    );
    await receiver.waitFor(10, 60_000);
    t.equal(receiver.maxOpen, 2, 'at most 2 requests in flight while the other instance is live');

    clearInterval(here);
    announce('leaving');
    await eventually(() => (receiver.maxOpen === 4 ? true : undefined), 30_000, '4 requests in flight');
    t.pass('4 requests in flight once it left');
    await receiver.waitFor(40, 60_000);
    t.equal(receiver.maxOpen, 4, 'never more than the whole concurrency');
  },
);
