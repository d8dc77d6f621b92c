import t from 'tap';
import type { AttemptSummary } from '../../../daemon/dispatch/attempt-feed.js';
import { DeliveryStats, KEPT_MS } from '../../../daemon/dispatch/delivery-stats.js';
import { bucketOf, FLOORS, MAX_RELATIVE_ERROR, percentile } from '../../../daemon/dispatch/latency-histogram.js';
import { createLogger } from '../../../daemon/common/log.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';

const MINUTE = 60_000;
const log = createLogger('silent');

function attempt(consumerId: string, at: number, outcome: 'success' | 'failure', durationMs: number): AttemptSummary {
  return {
    at: new Date(at).toISOString(),
    consumerId,
    eventType: 'order.placed',
    eventId: `evt-${at}`,
    messageId: `msg-${at}-${durationMs}`,
    trigger: 'scheduled',
    attempt: 1,
    of: 3,
    outcome,
    statusCode: outcome === 'success' ? 200 : 502,
    errorClass: outcome === 'success' ? null : 'http',
    error: outcome === 'success' ? null : 'HTTP 502',
    durationMs,
    status: outcome === 'success' ? 'success' : 'attempting',
    nextAttemptAt: null,
  };
}

/** The nearest-rank percentile of the values themselves. */
function exact(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
}

t.test('latency histogram - percentiles of any durations are within the stated error of the exact ones', async (t) => {
  t.same(FLOORS.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 'whole milliseconds at the bottom');
  t.ok(FLOORS.at(-1)! > 600_000, 'buckets past 10 minutes');
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (const [name, draw] of [
    ['uniform 1 to 2000 ms', () => 1 + Math.floor(random() * 2000)],
    ['log-uniform 1 ms to 5 min', () => Math.round(Math.exp(random() * Math.log(300_000)))],
    [
      'mostly fast, a slow tail',
      () => (random() < 0.9 ? 20 + Math.floor(random() * 30) : 5000 + Math.floor(random() * 25_000)),
    ],
  ] as [string, () => number][]) {
    const values = Array.from({ length: 5000 }, draw);
    const histogram = new Map<number, number>();
    for (const v of values) histogram.set(bucketOf(v), (histogram.get(bucketOf(v)) ?? 0) + 1);
    for (const p of [0.5, 0.95, 0.99]) {
      const truth = exact(values, p);
      const read = percentile(histogram, p)!;
      t.ok(
        Math.abs(read - truth) <= truth * MAX_RELATIVE_ERROR + 0.05,
        `${name}: p${p * 100} ${read} ms for ${truth} ms`,
      );
    }
  }
  t.equal(percentile(new Map(), 0.5), null, 'none counted: null');
});

t.test(
  'delivery stats - steps and totals add up, the last error is the newest, and a new instance reads them back',
  async (t) => {
    const store = new Store(tempDir(t, 'stats'));
    await store.start();
    t.teardown(() => store.stop());
    const now = Date.parse('2026-03-04T10:30:20.000Z');
    const stats = new DeliveryStats(store, log);
    // Over the last 20 minutes, 3 attempts a minute, every fifth failing.
    const durations: number[] = [];
    for (let m = 0; m < 20; m++) {
      for (let i = 0; i < 3; i++) {
        const at = now - m * MINUTE - i * 1000;
        const duration = 10 + m * 7 + i;
        durations.push(duration);
        stats.record(attempt('shop', at, (m * 3 + i) % 5 === 0 ? 'failure' : 'success', duration), now);
      }
    }
    stats.record(attempt('shop', now - 2 * KEPT_MS, 'failure', 5), now);
    const failures = Math.ceil(60 / 5);

    const hour = stats.steps('shop', 60 * MINUTE, 5 * MINUTE, now);
    t.equal(new Date(hour.to).toISOString(), '2026-03-04T10:35:00.000Z', 'the window ends with the running step');
    t.equal(new Date(hour.from).toISOString(), '2026-03-04T09:35:00.000Z');
    t.equal(hour.steps.length, 12);
    t.same(
      hour.steps.map((s) => s.success + s.failure),
      [0, 0, 0, 0, 0, 0, 0, 12, 15, 15, 15, 3],
      'attempts per five-minute step',
    );
    t.same(hour.totals.success + hour.totals.failure, 60, 'the one older than a day is not counted');
    t.same([hour.totals.failure, hour.totals.successRatio], [failures, 0.8]);
    t.equal(hour.totals.perMinute, Math.round((60 / ((now - hour.from) / MINUTE)) * 100) / 100, 'per minute so far');
    for (const p of [0.5, 0.95]) {
      const truth = exact(durations, p);
      const read = p === 0.5 ? hour.totals.p50Ms! : hour.totals.p95Ms!;
      t.ok(Math.abs(read - truth) <= truth * MAX_RELATIVE_ERROR + 0.05, `p${p * 100}: ${read} ms for ${truth} ms`);
    }
    t.same(hour.steps[0], { at: hour.from, success: 0, failure: 0, p50Ms: null, p95Ms: null }, 'an empty step');
    t.match(hour.lastError, { at: now, statusCode: 502, errorClass: 'http', error: 'HTTP 502' }, 'the newest failure');
    const quarter = stats.totals('shop', 15 * MINUTE, now);
    t.equal(quarter.totals.success + quarter.totals.failure, 45, 'the last 15 minutes, the running one included');
    t.same(stats.totals('nobody', 15 * MINUTE, now).totals, {
      success: 0,
      failure: 0,
      successRatio: null,
      p50Ms: null,
      p95Ms: null,
      perMinute: 0,
    });

    await stats.flush(now);
    const again = new DeliveryStats(store, log);
    await again.load(now);
    t.same(again.steps('shop', 60 * MINUTE, MINUTE, now), stats.steps('shop', 60 * MINUTE, MINUTE, now), 'read back');
    t.same((await store.scans.deliveryMinutesSince(0)).length, 20, 'one record per consumer and minute');

    // A day and more later: gone from memory at once, from the store an hour after.
    const later = now + KEPT_MS + 30 * MINUTE;
    await again.flush(later);
    t.equal(again.totals('shop', KEPT_MS, later).totals.success, 0, 'out of the window');
    t.equal((await store.scans.deliveryMinutesSince(0)).length, 20, 'still stored');
    await again.flush(later + 31 * MINUTE);
    t.equal((await store.scans.deliveryMinutesSince(0)).length, 0, 'removed from the store');
    t.equal(again.totals('shop', KEPT_MS, later).lastError, null, 'no last error older than a day');
  },
);
