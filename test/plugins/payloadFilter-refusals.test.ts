import t from 'tap';
import { compilePayloadFilter } from '../../plugins/payloadFilter.js';
import { compileError, matches } from '../helpers/payload-filter.js';

t.test('payloadFilter - paths with __proto__, constructor or prototype segments are refused', async (t) => {
  for (const key of [
    'payload.__proto__.polluted',
    'payload.constructor',
    'payload.lines.constructor.prototype',
    'payload.prototype',
  ]) {
    const error = compileError({ [key]: { $exist: true } });
    t.equal(error.path, key);
    t.match(error.message, /is not allowed in a path/);
  }
  t.equal(
    compileError({ $or: [{ 'payload.a': 1 }, { 'payload.constructor.name': 'Object' }] }).path,
    '$or[1].payload.constructor.name',
  );
  t.equal(compileError(JSON.parse('{"__proto__": {"$exist": true}}')).path, '__proto__');
});

t.test('payloadFilter - lookups see own properties only', async (t) => {
  const inherited = { payload: Object.create({ amount: 10, currency: 'GBP' }) };
  t.notOk(matches({ 'payload.amount': 10 }, inherited));
  t.notOk(matches({ 'payload.currency': { $exist: true } }, inherited));
  t.notOk(matches({ 'payload.toString': { $exist: true } }));
  t.notOk(matches({ 'payload.hasOwnProperty': { $exist: true } }));
  t.notOk(matches({ 'payload.tags.length': 2 }), 'an array has no fields');
  t.notOk(matches({ 'payload.currency.length': 3 }), 'a string has no fields');
  t.ok(matches({ 'payload.__x': 1 }, { payload: JSON.parse('{"__x": 1, "__proto__": {"y": 2}}') }));
});

t.test('payloadFilter - operands of the wrong type are refused with their path', async (t) => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ 'payload.amount': { $in: 5 } }, 'payload.amount.$in', /array/],
    [{ 'payload.amount': { $in: 'abc' } }, 'payload.amount.$in', /array/],
    [{ 'payload.amount': { $nin: { a: 1 } } }, 'payload.amount.$nin', /array/],
    [{ 'payload.amount': { $gt: { value: 5 } } }, 'payload.amount.$gt', /finite number or a string/],
    [{ 'payload.amount': { $gte: true } }, 'payload.amount.$gte', /finite number or a string/],
    [{ 'payload.amount': { $lt: null } }, 'payload.amount.$lt', /finite number or a string/],
    [{ 'payload.amount': { $lte: [1] } }, 'payload.amount.$lte', /finite number or a string/],
    [{ 'payload.amount': { $gt: Infinity } }, 'payload.amount.$gt', /finite/],
    [{ 'payload.amount': { $lt: NaN } }, 'payload.amount.$lt', /finite/],
    [{ 'payload.amount': { $exist: 'yes' } }, 'payload.amount.$exist', /true or false/],
    [{ 'payload.amount': { $exist: 1 } }, 'payload.amount.$exist', /true or false/],
    [{ 'payload.sku': { $startsWith: 1 } }, 'payload.sku.$startsWith', /string/],
    [{ 'payload.sku': { $endsWith: null } }, 'payload.sku.$endsWith', /string/],
    [{ 'payload.sku': { $regex: 5 } }, 'payload.sku.$regex', /pattern/],
    [{ 'payload.sku': { $regex: { pattern: 5 } } }, 'payload.sku.$regex.pattern', /string/],
    [{ 'payload.sku': { $regex: { pattern: 'a', flags: 'x' } } }, 'payload.sku.$regex.flags', /i, m, s, u/],
    [{ 'payload.sku': { $regex: { pattern: 'a', flags: 'ii' } } }, 'payload.sku.$regex.flags', /distinct/],
    [{ 'payload.sku': { $regex: { pattern: 'a', options: 'i' } } }, 'payload.sku.$regex.options', /unknown key/],
    [{ 'payload.sku': { $eq: undefined } }, 'payload.sku.$eq', /JSON value/],
    [{ 'payload.sku': { $neq: () => true } }, 'payload.sku.$neq', /JSON value/],
    [{ 'payload.sku': { $in: [1, undefined] } }, 'payload.sku.$in', /JSON value/],
    [{ 'payload.sku': undefined }, 'payload.sku', /JSON value/],
    [{ 'payload.sku': { $not: 5 } }, 'payload.sku.$not', /object of operators/],
    [{ 'payload.sku': { $not: {} } }, 'payload.sku.$not', /object of operators/],
    [{ 'payload.sku': { $not: { region: 'us' } } }, 'payload.sku.$not', /object of operators/],
  ];
  for (const [filter, path, reason] of cases) {
    const error = compileError(filter);
    t.equal(error.path, path, `${path} is named`);
    t.match(error.message, reason);
  }
});

t.test('payloadFilter - unknown operators are refused with their path', async (t) => {
  t.equal(compileError({ 'payload.amount': { $greaterThan: 5 } }).path, 'payload.amount.$greaterThan');
  t.match(compileError({ 'payload.amount': { $ne: 5 } }).message, /unknown operator; use one of \$eq \$neq/);
  t.equal(compileError({ 'payload.amount': { $not: { $exists: true } } }).path, 'payload.amount.$not.$exists');
  t.equal(compileError({ $nor: [{ 'payload.a': 1 }] }).path, '$nor');
  t.equal(compileError({ $and: [{ 'payload.a': 1 }, { $xor: [] }] }).path, '$and[1].$xor');
  t.equal(
    compileError({ 'payload.amount': { $gt: 5, lt: 10 } }).path,
    'payload.amount',
    'operators mixed with plain keys',
  );
});

t.test('payloadFilter - malformed logical operators are refused with their path', async (t) => {
  t.equal(compileError({ $and: [] }).path, '$and');
  t.match(compileError({ $or: [] }).message, /^\$or: must hold at least one filter/);
  t.equal(compileError({ $and: { 'payload.a': 1 } }).path, '$and');
  t.equal(compileError({ $or: [{ 'payload.a': 1 }, 'payload.b'] }).path, '$or[1]');
  t.equal(compileError({ $or: [{ $and: [] }] }).path, '$or[0].$and');
  t.equal(compileError({ $not: [{ 'payload.a': 1 }] }).path, '$not');
  t.equal(compileError({ $not: null }).path, '$not');
  t.equal(
    compileError({ $and: [{ 'payload.a': 1 }, { $or: [{ $not: { 'payload.x': { $gt: {} } } }] }] }).path,
    '$and[1].$or[0].$not.payload.x.$gt',
  );
});

t.test('payloadFilter - malformed paths are refused', async (t) => {
  t.equal(compileError({ 'payload..amount': 1 }).path, 'payload..amount');
  t.equal(compileError({ 'payload.amount.': 1 }).path, 'payload.amount.');
  t.equal(compileError({ '': 1 }).path, '');
  t.match(
    compileError({ amount: { $gt: 5 } }).message,
    /^amount: a path starts at an envelope field: id, eventType, generatedDate or payload/,
  );
  t.equal(compileError({ $or: [{ 'body.amount': 1 }] }).path, '$or[0].body.amount');
  t.match(compileError(null as unknown as Record<string, unknown>).message, /a filter must be an object/);
  t.match(compileError([] as unknown as Record<string, unknown>).message, /a filter must be an object/);
});

t.test('payloadFilter - invalid and overlong regexes are refused with their path', async (t) => {
  const unclosed = compileError({ 'payload.sku': { $regex: '(abc' } });
  t.equal(unclosed.path, 'payload.sku.$regex');
  t.match(unclosed.message, /invalid regular expression/);
  t.equal(compileError({ 'payload.sku': { $regex: { pattern: '[z-a]' } } }).path, 'payload.sku.$regex.pattern');
  t.equal(
    compileError({ 'payload.sku': { $regex: { pattern: '\\p{Nope}', flags: 'u' } } }).path,
    'payload.sku.$regex.pattern',
    'invalid only with the u flag',
  );
  t.equal(
    compileError({ $and: [{ 'payload.a': 1 }, { 'payload.sku': { $regex: '*' } }] }).path,
    '$and[1].payload.sku.$regex',
  );
  const overlong = compileError({ 'payload.sku': { $regex: 'a'.repeat(1001) } });
  t.equal(overlong.path, 'payload.sku.$regex');
  t.match(overlong.message, /at most 1000 characters/);
  t.ok(
    matches({ 'payload.sku': { $regex: 'a'.repeat(1000) } }, { payload: { sku: 'a'.repeat(1000) } }),
    '1000 characters are allowed',
  );
});

t.test('payloadFilter - regexes that could backtrack catastrophically are refused', async (t) => {
  for (const pattern of ['(a+)+$', '(.*a){20}', '(x+x+)+y', '^(\\w+\\s?)*$', '(a*)*b', '([a-z]+)*@']) {
    const error = compileError({ 'payload.sku': { $regex: pattern } });
    t.equal(error.path, 'payload.sku.$regex', pattern);
    t.match(error.message, /backtrack catastrophically/);
    t.equal(
      compileError({ $or: [{ 'payload.sku': { $regex: { pattern, flags: 'i' } } }] }).path,
      '$or[0].payload.sku.$regex.pattern',
    );
  }
  t.equal(
    compileError({ 'payload.sku': { $regex: 'a?'.repeat(26) } }).path,
    'payload.sku.$regex',
    'too many quantifiers',
  );
  for (const pattern of ['^[A-Z]-\\d+$', '^(?:us|eu)-[a-z]+$', '\\d{4}-\\d{2}-\\d{2}', '^(?<year>\\d{4})']) {
    t.doesNotThrow(() => compilePayloadFilter({ 'payload.sku': { $regex: pattern } }), `${pattern} is accepted`);
  }
});

t.test('payloadFilter - FilterError is an Error naming the place in its message', async (t) => {
  const error = compileError({ 'payload.amount': { $gt: {} } });
  t.type(error, Error);
  t.equal(error.name, 'FilterError');
  t.equal(error.path, 'payload.amount.$gt');
  t.match(error.message, /^payload\.amount\.\$gt: must be a finite number or a string$/);
});
