import t from 'tap';
import { compilePayloadFilter } from '../../plugins/payloadFilter.js';
import { event, matches } from '../helpers/payload-filter.js';

t.test('payloadFilter - several operators in one object must all hold', async (t) => {
  t.ok(matches({ 'payload.amount': { $gt: 5, $lt: 20, $neq: 7 } }));
  t.notOk(matches({ 'payload.amount': { $gt: 5, $lt: 10 } }));
  t.notOk(matches({ 'payload.amount': { $exist: true, $in: [1, 2] } }));
  t.ok(matches({ 'payload.currency': { $startsWith: 'G', $endsWith: 'P', $regex: 'B' } }));
  t.ok(
    matches({ 'payload.lines.amount': { $gt: 100, $lt: 10 } }),
    'over an array each operator may match a different element',
  );
});

t.test('payloadFilter - several keys of a filter must all hold', async (t) => {
  t.ok(matches({ eventType: 'read.completed', 'payload.currency': 'GBP', 'payload.amount': { $gte: 10 } }));
  t.notOk(matches({ eventType: 'read.completed', 'payload.currency': 'EUR' }));
  t.ok(matches({}), 'an empty filter matches every event');
});

t.test('payloadFilter - a shorthand literal means $eq', async (t) => {
  t.ok(matches({ 'payload.referenceCompany.tags.region': 'us' }));
  t.notOk(matches({ 'payload.referenceCompany.tags.region': 'eu' }));
  t.ok(matches({ 'payload.amount': 10 }));
  t.ok(matches({ 'payload.approved': true }));
  t.ok(matches({ 'payload.note': null }));
  t.ok(
    matches({ 'payload.referenceCompany.tags': { region: 'us', tier: 'gold' } }),
    'an object without operators is a literal',
  );
  t.notOk(matches({ 'payload.referenceCompany.tags': { region: 'us' } }));
  t.ok(
    matches({ 'payload.referenceCompany': { id: 'cmp_1', tags: { tier: 'gold', region: 'us' } } }),
    'nested literals compare deeply',
  );
  t.ok(matches({ 'payload.empty': {} }, { payload: { empty: {} } }), 'an empty object is a literal');
});

t.test('payloadFilter - $not negates an object of operators on a path', async (t) => {
  t.ok(matches({ 'payload.amount': { $not: { $gt: 50 } } }));
  t.notOk(matches({ 'payload.amount': { $not: { $gt: 5 } } }));
  t.notOk(matches({ 'payload.amount': { $not: { $gt: 5, $lt: 20 } } }), 'negates the conjunction');
  t.ok(matches({ 'payload.amount': { $not: { $gt: 5, $lt: 8 } } }));
  t.ok(matches({ 'payload.amount': { $gte: 10, $not: { $in: [11, 12] } } }));
  t.notOk(matches({ 'payload.lines.amount': { $not: { $gt: 100 } } }), 'one line is over 100');
});

t.test('payloadFilter - $and, $or and $not nest three levels deep', async (t) => {
  const filter = {
    $and: [
      { eventType: { $startsWith: 'read.' } },
      {
        $or: [
          { 'payload.currency': 'EUR' },
          {
            $and: [
              { 'payload.amount': { $gte: 10 } },
              { $not: { 'payload.referenceCompany.tags.region': { $in: ['eu', 'apac'] } } },
            ],
          },
        ],
      },
      {
        $not: {
          $or: [
            { 'payload.note': { $neq: null } },
            { $and: [{ 'payload.approved': false }, { 'payload.amount': 10 }] },
          ],
        },
      },
    ],
  };
  t.ok(matches(filter));
  const eu = { ...event, payload: { ...event.payload, referenceCompany: { id: 'cmp_2', tags: { region: 'eu' } } } };
  t.notOk(matches(filter, eu), 'the inner $not fails, and the currency is not EUR');
  t.ok(matches(filter, { ...eu, payload: { ...eu.payload, currency: 'EUR' } }), 'the other branch of $or holds');
  t.notOk(
    matches(filter, { ...event, payload: { ...event.payload, approved: false } }),
    'the last $not fails through its $and',
  );
  t.notOk(
    matches(filter, { ...event, payload: { ...event.payload, note: 'urgent' } }),
    'the last $not fails through its $neq',
  );
  t.notOk(matches(filter, { ...event, eventType: 'write.completed' }));

  t.ok(matches({ $or: [{ 'payload.currency': 'EUR' }, { 'payload.currency': 'GBP' }] }));
  t.notOk(matches({ $or: [{ 'payload.currency': 'EUR' }, { 'payload.currency': 'USD' }] }));
  t.ok(matches({ $and: [{ 'payload.currency': 'GBP' }] }));
  t.notOk(matches({ $not: { 'payload.currency': 'GBP' } }));
  t.ok(matches({ $not: { $not: { 'payload.currency': 'GBP' } } }));
});

t.test('payloadFilter - 100 varied filters give the right answer on 10 events', async (t) => {
  const regions = ['us', 'eu', 'apac', 'latam'];
  const events = Array.from({ length: 10 }, (_, i) => ({
    id: `evt_${i}`,
    eventType: i % 3 === 0 ? 'connection.created' : 'read.completed',
    generatedDate: `2024-05-${String(10 + i).padStart(2, '0')}T00:00:00Z`,
    payload: {
      amount: i * 11,
      region: regions[i % 4],
      sku: `SKU-${i}${i % 2 === 0 ? 'E' : 'O'}`,
      ...(i % 2 === 0 ? { discount: i } : {}),
      lines: [{ amount: i }, { amount: i * 20 }],
    },
  }));
  type Payload = (typeof events)[number]['payload'] & { discount?: number };
  type Case = { filter: Record<string, unknown>; expected: (e: (typeof events)[number], p: Payload) => boolean };
  // k runs over 0..99 and picks template k % 10; `tens` (0..9) varies each template's operands.
  const templates: ((k: number, tens: number) => Case)[] = [
    (k) => ({ filter: { 'payload.amount': { $gt: k } }, expected: (_, p) => p.amount > k }),
    (k) => ({
      filter: { 'payload.amount': { $lte: k, $gte: k / 2 } },
      expected: (_, p) => p.amount <= k && p.amount >= k / 2,
    }),
    (k, tens) => ({
      filter: { 'payload.region': { $in: [regions[tens % 4], regions[(tens + 1) % 4]] }, 'payload.amount': { $lt: k } },
      expected: (_, p) => (p.region === regions[tens % 4] || p.region === regions[(tens + 1) % 4]) && p.amount < k,
    }),
    (k, tens) => ({
      filter: { 'payload.region': { $nin: [regions[tens % 4], `region-${k}`] } },
      expected: (_, p) => p.region !== regions[tens % 4],
    }),
    (_, tens) => ({
      filter: { 'payload.sku': { $regex: `^SKU-${tens}` } },
      expected: (_, p) => p.sku.startsWith(`SKU-${tens}`),
    }),
    (_, tens) => ({
      filter: { 'payload.sku': { $endsWith: `${tens}O` }, eventType: { $startsWith: 'read.' } },
      expected: (e, p) => p.sku.endsWith(`${tens}O`) && e.eventType.startsWith('read.'),
    }),
    (k) => ({
      filter: { $or: [{ 'payload.amount': { $lt: k } }, { 'payload.discount': { $exist: true } }] },
      expected: (_, p) => p.amount < k || p.discount !== undefined,
    }),
    (k) => ({
      filter: { $not: { 'payload.lines.amount': { $gt: k * 2 } } },
      expected: (_, p) => !p.lines.some((line) => line.amount > k * 2),
    }),
    (_, tens) => ({
      filter: { 'payload.discount': { $neq: tens }, generatedDate: { $gte: `2024-05-${10 + tens}` } },
      expected: (e, p) => p.discount !== tens && e.generatedDate >= `2024-05-${10 + tens}`,
    }),
    (k, tens) => ({
      filter: {
        $and: [
          { 'payload.lines.amount': tens },
          { $or: [{ 'payload.region': 'us' }, { 'payload.amount': { $eq: String(k) } }] },
        ],
      },
      expected: (_, p) => p.lines.some((line) => line.amount === tens) && p.region === 'us',
    }),
  ];
  const cases = Array.from({ length: 100 }, (_, k) => templates[k % templates.length](k, Math.floor(k / 10)));
  t.equal(new Set(cases.map((c) => JSON.stringify(c.filter))).size, 100, 'the filters are all different');
  const actual = cases.map(({ filter }) => {
    const predicate = compilePayloadFilter(filter);
    return events.map((e) => predicate(e));
  });
  const expected = cases.map(({ expected }) => events.map((e) => expected(e, e.payload)));
  t.same(actual, expected);
  const verdicts = actual.flat();
  t.ok(verdicts.includes(true) && verdicts.includes(false), 'the suite has both matches and misses');
});

t.test('payloadFilter - throughput of a compiled filter (figure only)', async (t) => {
  const predicate = compilePayloadFilter({
    eventType: { $startsWith: 'read.' },
    'payload.referenceCompany.tags.region': { $in: ['us', 'eu'] },
    'payload.lines.amount': { $gt: 100 },
    $or: [
      { 'payload.currency': { $regex: { pattern: '^gb', flags: 'i' } } },
      { 'payload.amount': { $gte: 10, $lt: 100 } },
    ],
  });
  const evaluations = 100_000;
  let matched = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < evaluations; i++) if (predicate(event)) matched++;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.equal(matched, evaluations);
  const perSecond = Math.round(evaluations / seconds).toLocaleString('en');
  const took = `${evaluations.toLocaleString('en')} in ${(seconds * 1000).toFixed(0)} ms`;
  t.comment(`payloadFilter: ~${perSecond} evaluations/s (${took})`);
});
