import t from 'tap';
import { nextDelay } from '../../plugins/schedule.js';

const schedule = [0, 5000, 300_000];

t.test('schedule - picks the delay of the next attempt and ends after the last', async (t) => {
  t.equal(nextDelay(schedule, 0, 0), 0);
  t.equal(nextDelay(schedule, 1, 0), 5000);
  t.equal(nextDelay(schedule, 2, 0), 300_000);
  t.equal(nextDelay(schedule, 3, 0), null);
});

t.test('schedule - jitter spreads each delay within ±20 %', async (t) => {
  t.equal(nextDelay(schedule, 1, 0.2, () => 0), 4000);
  t.equal(nextDelay(schedule, 1, 0.2, () => 1), 6000);
  const seen = Array.from({ length: 500 }, () => nextDelay(schedule, 2, 0.2) as number);
  t.ok(seen.every((d) => d >= 240_000 && d <= 360_000));
  t.ok(new Set(seen).size > 100, 'delays differ');
});
