import t from 'tap';
import { compilePayloadFilter } from '../../plugins/payloadFilter.js';
import { compileError, event, matches } from '../helpers/payload-filter.js';

t.test('payloadFilter - $eq matches an equal value and not a different one', async (t) => {
  t.ok(matches({ 'payload.currency': { $eq: 'GBP' } }));
  t.notOk(matches({ 'payload.currency': { $eq: 'EUR' } }));
  t.ok(matches({ 'payload.note': { $eq: null } }), 'null equals null');
  t.ok(matches({ eventType: { $eq: 'read.completed' } }), 'envelope fields other than payload are addressable');
});

t.test('payloadFilter - $eq compares objects and arrays deeply, key order aside', async (t) => {
  t.ok(matches({ 'payload.referenceCompany.tags': { $eq: { tier: 'gold', region: 'us' } } }));
  t.notOk(matches({ 'payload.referenceCompany.tags': { $eq: { region: 'us' } } }), 'a subset is not equal');
  t.notOk(
    matches({ 'payload.referenceCompany.tags': { $eq: { region: 'us', tier: 'gold', extra: 1 } } }),
    'a superset is not equal',
  );
  t.ok(
    matches({
      'payload.lines': {
        $eq: [
          { amount: 5, sku: 'A-1' },
          { sku: 'B-2', amount: 500 },
        ],
      },
    }),
  );
  t.notOk(matches({ 'payload.tags': { $eq: ['beta', 'alpha'] } }), 'array order matters');
  t.notOk(matches({ 'payload.referenceCompany.tags': { $eq: ['us', 'gold'] } }), 'an object is not an array');
});

t.test('payloadFilter - $neq holds for a different value and fails for an equal one', async (t) => {
  t.ok(matches({ 'payload.currency': { $neq: 'EUR' } }));
  t.notOk(matches({ 'payload.currency': { $neq: 'GBP' } }));
  t.notOk(
    matches({ 'payload.referenceCompany.tags': { $neq: { tier: 'gold', region: 'us' } } }),
    'deep equality applies',
  );
});

t.test('payloadFilter - $gt, $gte, $lt and $lte compare numbers', async (t) => {
  t.ok(matches({ 'payload.amount': { $gt: 9 } }));
  t.notOk(matches({ 'payload.amount': { $gt: 10 } }));
  t.ok(matches({ 'payload.amount': { $gte: 10 } }));
  t.notOk(matches({ 'payload.amount': { $gte: 10.5 } }));
  t.ok(matches({ 'payload.amount': { $lt: 11 } }));
  t.notOk(matches({ 'payload.amount': { $lt: 10 } }));
  t.ok(matches({ 'payload.amount': { $lte: 10 } }));
  t.notOk(matches({ 'payload.amount': { $lte: 9.99 } }));
});

t.test('payloadFilter - $gt, $gte, $lt and $lte compare strings, so ISO dates order correctly', async (t) => {
  t.ok(matches({ generatedDate: { $gt: '2024-05-14T00:00:00Z' } }));
  t.notOk(matches({ generatedDate: { $gt: '2024-05-15T00:00:00Z' } }));
  t.ok(matches({ generatedDate: { $gte: '2024-05-14T11:02:13Z' } }));
  t.ok(matches({ generatedDate: { $lt: '2025-01-01' } }));
  t.notOk(matches({ generatedDate: { $lt: '2024-05-14T11:02:13Z' } }));
  t.ok(matches({ generatedDate: { $lte: '2024-05-14T11:02:13Z' } }));
  t.notOk(matches({ 'payload.currency': { $lte: 'ABC' } }));
});

t.test('payloadFilter - $in and $nin test membership of a list', async (t) => {
  t.ok(matches({ 'payload.currency': { $in: ['EUR', 'GBP'] } }));
  t.notOk(matches({ 'payload.currency': { $in: ['EUR', 'USD'] } }));
  t.notOk(matches({ 'payload.currency': { $in: [] } }), 'nothing is in an empty list');
  t.ok(
    matches({ 'payload.referenceCompany.tags': { $in: [{ region: 'us', tier: 'gold' }, 'x'] } }),
    'objects in the list compare deeply',
  );
  t.ok(matches({ 'payload.currency': { $nin: ['EUR', 'USD'] } }));
  t.notOk(matches({ 'payload.currency': { $nin: ['EUR', 'GBP'] } }));
  t.ok(matches({ 'payload.currency': { $nin: [] } }));
});

t.test('payloadFilter - $exist tests presence, and a null value is present', async (t) => {
  t.ok(matches({ 'payload.currency': { $exist: true } }));
  t.notOk(matches({ 'payload.currency': { $exist: false } }));
  t.ok(matches({ 'payload.note': { $exist: true } }), 'null exists');
  t.notOk(matches({ 'payload.note': { $exist: false } }));
  t.ok(matches({ 'payload.discount': { $exist: false } }));
  t.notOk(matches({ 'payload.discount': { $exist: true } }));
});

t.test('payloadFilter - $regex matches strings, with a bare pattern or { pattern, flags }', async (t) => {
  t.ok(matches({ 'payload.lines.sku': { $regex: '^B-\\d$' } }));
  t.notOk(matches({ 'payload.currency': { $regex: '^gb' } }), 'case-sensitive without the i flag');
  t.ok(matches({ 'payload.currency': { $regex: { pattern: '^gb', flags: 'i' } } }));
  t.ok(matches({ 'payload.currency': { $regex: { pattern: 'GBP' } } }), 'flags are optional');
  t.ok(matches({ 'payload.currency': { $regex: { pattern: '^\\p{Lu}+$', flags: 'u' } } }));
});

t.test(
  'payloadFilter - $regex gives the same answer on every call, as its flags cannot make it stateful',
  async (t) => {
    const isGbp = compilePayloadFilter({ 'payload.currency': { $regex: { pattern: 'gbp', flags: 'im' } } });
    t.same([isGbp(event), isGbp(event), isGbp(event)], [true, true, true]);
    t.equal(
      compileError({ 'payload.currency': { $regex: { pattern: 'gbp', flags: 'g' } } }).path,
      'payload.currency.$regex.flags',
    );
    t.equal(
      compileError({ 'payload.currency': { $regex: { pattern: 'gbp', flags: 'y' } } }).path,
      'payload.currency.$regex.flags',
    );
  },
);

t.test('payloadFilter - $startsWith and $endsWith match string ends', async (t) => {
  t.ok(matches({ eventType: { $startsWith: 'read.' } }));
  t.notOk(matches({ eventType: { $startsWith: 'write.' } }));
  t.ok(matches({ eventType: { $endsWith: '.completed' } }));
  t.notOk(matches({ eventType: { $endsWith: '.failed' } }));
  t.notOk(matches({ 'payload.amount': { $startsWith: '1' } }), 'a number is not a string');
  t.notOk(matches({ 'payload.amount': { $endsWith: '0' } }));
});

t.test('payloadFilter - "10" is not 10 for $eq, $gt and $in', async (t) => {
  t.notOk(matches({ 'payload.amount': { $eq: '10' } }));
  t.notOk(matches({ 'payload.text': { $eq: 10 } }));
  t.ok(matches({ 'payload.amount': { $neq: '10' } }));
  t.notOk(matches({ 'payload.text': { $gt: 9 } }));
  t.notOk(matches({ 'payload.amount': { $gt: '9' } }));
  t.notOk(matches({ 'payload.amount': { $in: ['10', '11'] } }));
  t.notOk(matches({ 'payload.text': { $in: [10, 11] } }));
  t.ok(matches({ 'payload.text': { $nin: [10, 11] } }));
  t.notOk(matches({ 'payload.approved': { $eq: 'true' } }));
  t.notOk(matches({ 'payload.note': { $eq: 0 } }), 'null is not 0');
});

t.test('payloadFilter - $lt on a string against a number is false', async (t) => {
  t.notOk(matches({ 'payload.text': { $lt: 100 } }));
  t.notOk(matches({ 'payload.amount': { $lt: '100' } }));
  t.notOk(matches({ 'payload.approved': { $lte: 1 } }), 'a boolean is neither');
  t.notOk(matches({ 'payload.note': { $gte: 0 } }), 'null is neither');
});

t.test('payloadFilter - $regex applies to strings only', async (t) => {
  t.notOk(matches({ 'payload.amount': { $regex: '10' } }));
  t.notOk(matches({ 'payload.note': { $regex: 'null' } }));
  t.notOk(matches({ 'payload.referenceCompany': { $regex: 'us' } }));
});

t.test('payloadFilter - a missing path fails every operator except $exist: false, $neq and $nin', async (t) => {
  const operators: [Record<string, unknown>, boolean][] = [
    [{ $eq: 1 }, false],
    [{ $eq: null }, false],
    [{ $neq: 1 }, true],
    [{ $gt: 1 }, false],
    [{ $gte: 1 }, false],
    [{ $lt: 1 }, false],
    [{ $lte: 1 }, false],
    [{ $in: [1, null] }, false],
    [{ $nin: [1, null] }, true],
    [{ $exist: true }, false],
    [{ $exist: false }, true],
    [{ $regex: '.*' }, false],
    [{ $startsWith: '' }, false],
    [{ $endsWith: '' }, false],
    [{ $not: { $gt: 1 } }, true],
  ];
  for (const [operator, expected] of operators) {
    t.equal(matches({ 'payload.discount': operator }), expected, `${JSON.stringify(operator)} on a missing leaf`);
    t.equal(
      matches({ 'payload.terms.discount.rate': operator }),
      expected,
      `${JSON.stringify(operator)} below a missing object`,
    );
    t.equal(matches({ 'payload.currency.code': operator }), expected, `${JSON.stringify(operator)} below a string`);
    t.equal(
      matches({ 'payload.discount': operator }, { id: 'evt_2' }),
      expected,
      `${JSON.stringify(operator)} without a payload`,
    );
  }
  t.notOk(matches({ 'payload.discount': 1 }), 'a shorthand literal on a missing path');
});

t.test('payloadFilter - an envelope that is not an object has no paths', async (t) => {
  const isRead = compilePayloadFilter({ eventType: 'read.completed' });
  const hasNoType = compilePayloadFilter({ eventType: { $exist: false } });
  for (const envelope of [null, undefined, 'text', 42, [event]]) {
    t.notOk(isRead(envelope), JSON.stringify(envelope) ?? 'undefined');
    t.ok(hasNoType(envelope), JSON.stringify(envelope) ?? 'undefined');
  }
});

t.test('payloadFilter - a path crossing an array matches when any element matches', async (t) => {
  t.ok(matches({ 'payload.lines.amount': { $gt: 100 } }), '500 is over 100');
  t.notOk(matches({ 'payload.lines.amount': { $gt: 500 } }));
  t.ok(matches({ 'payload.lines.amount': 5 }));
  t.ok(matches({ 'payload.lines.sku': { $in: ['B-2', 'C-3'] } }));
  t.ok(matches({ 'payload.lines.sku': { $startsWith: 'A' } }));
  t.ok(matches({ 'payload.lines.amount': { $exist: true } }));
  t.notOk(matches({ 'payload.lines.discount': { $exist: true } }), 'no element has it');
  t.ok(matches({ 'payload.lines': { $exist: true } }));
});

t.test('payloadFilter - $neq and $nin over an array mean no element matches', async (t) => {
  t.notOk(matches({ 'payload.lines.amount': { $neq: 5 } }), 'one line has amount 5');
  t.ok(matches({ 'payload.lines.amount': { $neq: 6 } }));
  t.notOk(matches({ 'payload.lines.sku': { $nin: ['B-2'] } }));
  t.ok(matches({ 'payload.lines.sku': { $nin: ['C-3', 'D-4'] } }));
  t.notOk(matches({ 'payload.tags': { $neq: 'beta' } }), 'a path ending on an array');
  t.ok(matches({ 'payload.tags': { $nin: ['gamma'] } }));
});

t.test('payloadFilter - a path through nested arrays of objects matches any element at any level', async (t) => {
  t.ok(matches({ 'payload.orders.lines.amount': { $gt: 200 } }), 'the second order has a 300 line');
  t.ok(matches({ 'payload.orders.lines.amount': 2 }));
  t.notOk(matches({ 'payload.orders.lines.amount': { $gt: 300 } }));
  t.ok(matches({ 'payload.orders.lines.sku': 'Z-9' }));
  t.ok(matches({ 'payload.orders.lines.sku': { $exist: true } }), 'one line of one order has a sku');
  t.notOk(matches({ 'payload.orders.lines.amount': { $nin: [1, 2, 300] } }));
  const nested = { payload: { groups: [[{ code: 'x' }], [{ code: 'y' }, { code: 'z' }]] } };
  t.ok(matches({ 'payload.groups.code': 'z' }, nested), 'arrays of arrays are crossed too');
});

t.test('payloadFilter - a path ending on an array matches an equal element or the whole array', async (t) => {
  t.ok(matches({ 'payload.tags': { $eq: 'alpha' } }));
  t.ok(matches({ 'payload.tags': 'beta' }), 'shorthand');
  t.notOk(matches({ 'payload.tags': 'gamma' }));
  t.ok(matches({ 'payload.tags': { $eq: ['alpha', 'beta'] } }), 'whole-array equality');
  t.ok(matches({ 'payload.tags': ['alpha', 'beta'] }), 'whole-array equality in shorthand');
  t.ok(matches({ 'payload.tags': { $in: ['beta', 'gamma'] } }));
  t.notOk(matches({ 'payload.tags': { $in: ['gamma'] } }));
  t.ok(matches({ 'payload.tags': { $regex: '^al' } }));
  t.ok(matches({ 'payload.matrix': { $eq: [1, 2] } }), 'an element that is itself an array');
  t.notOk(matches({ 'payload.matrix': { $eq: 1 } }), 'elements of elements are not looked at');
  t.ok(matches({ 'payload.tags': { $exist: true } }, { payload: { tags: [] } }), 'an empty array exists');
  t.notOk(matches({ 'payload.tags': 'alpha' }, { payload: { tags: [] } }));
});

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
