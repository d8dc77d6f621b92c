import t from 'tap';
import { nextDelay, parseRetryAfter, retryDelay, schedulePlugin } from '../../plugins/schedule.js';

const schedule = [0, 5000, 300_000];

t.test('schedule - picks the delay of the next attempt and ends after the last', async (t) => {
  t.equal(nextDelay(schedule, 0, 0), 0);
  t.equal(nextDelay(schedule, 1, 0), 5000);
  t.equal(nextDelay(schedule, 2, 0), 300_000);
  t.equal(nextDelay(schedule, 3, 0), null);
});

t.test('schedule - jitter spreads each delay within ±20 %', async (t) => {
  t.equal(
    nextDelay(schedule, 1, 0.2, () => 0),
    4000,
  );
  t.equal(
    nextDelay(schedule, 1, 0.2, () => 1),
    6000,
  );
  const seen = Array.from({ length: 500 }, () => nextDelay(schedule, 2, 0.2) as number);
  t.ok(seen.every((d) => d >= 240_000 && d <= 360_000));
  t.ok(new Set(seen).size > 100, 'delays differ');
});

const policy = { jitter: 0, overloadFloor: 60_000 };
const slow = [0, 10_000, 20_000];

t.test(
  'retry schedule - honours Retry-After on 429 and 503, never earlier than the schedule and capped at 2x',
  async (t) => {
    t.equal(retryDelay(slow, 1, { statusCode: 503, retryAfter: '15' }, policy), 15_000, 'within bounds: as asked');
    t.equal(
      retryDelay(slow, 1, { statusCode: 503, retryAfter: '1' }, policy),
      10_000,
      'never earlier than the schedule',
    );
    t.equal(
      retryDelay(slow, 1, { statusCode: 503, retryAfter: '3600' }, policy),
      20_000,
      'never more than twice the delay',
    );
    const now = Date.parse('2026-11-27T12:00:00Z');
    t.equal(
      retryDelay(slow, 1, { statusCode: 503, retryAfter: 'Fri, 27 Nov 2026 12:00:12 GMT' }, policy, now),
      12_000,
      'an HTTP date',
    );
    t.equal(retryDelay(slow, 1, { statusCode: 500, retryAfter: '15' }, policy), 10_000, 'ignored on other statuses');
    t.equal(retryDelay(slow, 1, { statusCode: 503, retryAfter: 'soon' }, policy), 10_000, 'ignored when unreadable');
  },
);

t.test('retry schedule - waits at least overloadFloor after a timeout or a 429', async (t) => {
  t.equal(retryDelay(slow, 1, { errorClass: 'timeout' }, policy), 60_000);
  t.equal(
    retryDelay(slow, 1, { statusCode: 429, retryAfter: '15' }, policy),
    60_000,
    'the floor wins over a shorter Retry-After',
  );
  t.equal(retryDelay(slow, 1, { statusCode: 503 }, policy), 10_000, 'a 503 alone has no floor');
  t.equal(retryDelay(slow, 1, { errorClass: 'connect' }, policy), 10_000);
  t.equal(retryDelay(slow, 3, { errorClass: 'timeout' }, policy), null, 'no floor once the schedule is exhausted');
});

t.test('retry schedule - reads Retry-After as seconds or an HTTP date', async (t) => {
  t.equal(parseRetryAfter('120'), 120_000);
  t.equal(parseRetryAfter(' 7 '), 7000);
  t.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2015-10-21T07:27:00Z')), 60_000);
  t.equal(
    parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('2016-01-01T00:00:00Z')),
    0,
    'a date in the past means now',
  );
  t.equal(parseRetryAfter('-5'), undefined);
});

t.test('retry schedule - a 410 Gone is not retried', async (t) => {
  t.equal(retryDelay(slow, 1, { statusCode: 410 }, policy), null);
});

t.test(
  "schedule plugin - a consumer's policy: its own retrySchedule or the plugin's, first attempt included",
  async (t) => {
    const plugin = schedulePlugin.create(
      { schedule: [1000, 60_000], jitter: 0, overloadFloor: 30_000 },
      { configDir: '.' },
    );
    const plain = plugin.forConsumer({ id: 'plain' } as never);
    t.same(plain.schedule, [1000, 60_000], "without a retrySchedule, the plugin's schedule");
    t.equal(plain.nextDelay(0), 1000, 'the first attempt waits the first entry');
    t.equal(plain.nextDelay(1, { statusCode: 500 }), 60_000);
    t.equal(plain.nextDelay(2, { statusCode: 500 }), null, 'then the message has failed for good');
    const own = plugin.forConsumer({ id: 'own', retrySchedule: [0, 2000] } as never);
    t.same(own.schedule, [0, 2000], "a consumer's retrySchedule replaces it");
    t.equal(own.nextDelay(0), 0, 'no floor before the first attempt');
    t.equal(own.nextDelay(1, { errorClass: 'timeout' }), 30_000, 'the floor after a timeout');
    t.equal(own.nextDelay(1, { statusCode: 410 }), null, 'a 410 is final');
    const jittered = schedulePlugin.create({ schedule: [10_000], jitter: 0.5, overloadFloor: 0 }, { configDir: '.' });
    const delays = Array.from({ length: 200 }, () => jittered.forConsumer({ id: 'j' } as never).nextDelay(0) as number);
    t.ok(Math.min(...delays) >= 5000 && Math.max(...delays) <= 15_000, 'the first delay is jittered too');
    t.ok(new Set(delays).size > 1, 'and varies');
  },
);
