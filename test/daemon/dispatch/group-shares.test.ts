import t from 'tap';
import { createLogger } from '../../../daemon/common/log.js';
import { concurrencyShare, GroupShares, rateShare } from '../../../daemon/dispatch/group-shares.js';
import { parseLines } from '../../helpers/hooksd.js';

const places = (size: number) => Array.from({ length: size }, (_, rank) => ({ size, rank }));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

t.test('group shares - each live instance takes an equal part of the rate; a lone one the whole', async (t) => {
  t.equal(rateShare(20, { size: 1, rank: 0 }), 20);
  t.equal(rateShare(undefined, { size: 3, rank: 1 }), undefined, 'no limit stays no limit');
  const thirds = places(3).map((place) => rateShare(20, place) as number);
  t.same(
    thirds.map((rate) => rate.toFixed(3)),
    ['6.667', '6.667', '6.667'],
  );
  t.ok(Math.abs(sum(thirds) - 20) < 1e-9, `the parts add up to the limit (${sum(thirds)})`);
  t.equal(rateShare(0.5, { size: 2, rank: 0 }), 0.25, 'fractional rates are kept, not rounded');
});

t.test(
  'group shares - concurrency: the parts add up to the limit, none takes more than one above another',
  async (t) => {
    for (let size = 1; size <= 6; size += 1)
      for (let concurrency = size; concurrency <= 40; concurrency += 1)
        for (const id of ['a', 'orders', 'billing-eu']) {
          const parts = places(size).map((place) => concurrencyShare(concurrency, id, place));
          if (sum(parts) !== concurrency || Math.max(...parts) - Math.min(...parts) > 1)
            t.fail(`concurrency ${concurrency} over ${size} for "${id}": ${parts.join(', ')}`);
        }
    t.same(
      places(3)
        .map((place) => concurrencyShare(32, 'c0', place))
        .sort(),
      [10, 11, 11],
      '32 over 3 instances: 11, 11 and 10 in some order',
    );
    t.same(
      places(4).map((place) => concurrencyShare(2, 'c0', place)),
      [1, 1, 1, 1],
      'below the number of instances each still takes 1',
    );
  },
);

t.test(
  'group shares - the remainder of the concurrency goes to different instances for different consumers',
  async (t) => {
    // With 4 over 3, one instance takes 2: which one turns with the consumer id.
    const takers = new Set<number>();
    for (let i = 0; i < 30; i += 1) {
      const parts = places(3).map((place) => concurrencyShare(4, `consumer-${i}`, place));
      takers.add(parts.indexOf(2));
    }
    t.same([...takers].sort(), [0, 1, 2], 'each of the 3 instances takes the extra request for some consumers');
  },
);

t.test('group shares - recomputed when the live instances change, logged only then', async (t) => {
  let output = '';
  const shares = new GroupShares(createLogger('info', { write: (line: string) => void (output += line) }));
  const consumers = [
    { id: 'limited', rateLimit: 20, concurrency: 7 },
    { id: 'free', concurrency: 32 },
    { id: 'single', concurrency: 1 },
  ];
  t.same(shares.of(consumers[0]), { rateLimit: 20, concurrency: 7 }, 'alone: the whole limits');
  t.equal(shares.setLive(['b'], 'b', consumers), false, 'alone and told so: no change');
  t.equal(output, '', 'nothing logged without a change');

  t.equal(shares.setLive(['a', 'c', 'b'], 'b', consumers), true);
  t.same(shares.group, { size: 3, rank: 1 });
  const three = shares.of(consumers[0]);
  t.equal((three.rateLimit as number).toFixed(3), '6.667');
  t.ok(three.concurrency === 2 || three.concurrency === 3, `7 over 3: ${three.concurrency}`);
  t.same(shares.of(consumers[1]).rateLimit, undefined);
  const [logged] = parseLines(output);
  t.equal(logged.instances, 3);
  t.same(
    (logged.shares as { consumerId: string; rateLimit?: number }[]).map((s) => [s.consumerId, s.rateLimit]),
    [
      ['limited', 6.667],
      ['free', undefined],
    ],
    'the log names the shares of the consumers that have limits, rates rounded',
  );

  t.equal(shares.setLive(['c', 'a', 'b'], 'b', consumers), false, 'the same instances in another order: no change');
  t.equal(shares.setLive(['a', 'b'], 'b', consumers), true, 'one left');
  t.same(shares.of(consumers[0]).rateLimit, 10);
  t.equal(shares.setLive(['c'], 'b', consumers), true, 'this instance counts itself even when left out');
  t.same(shares.group, { size: 2, rank: 0 });
  t.equal(parseLines(output).length, 3, 'one line per change');
});
