import t from 'tap';
import { compilePayloadFilter } from '../../plugins/payloadFilter.js';
import { event, matches } from '../helpers/payload-filter.js';

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
