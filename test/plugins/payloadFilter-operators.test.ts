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
