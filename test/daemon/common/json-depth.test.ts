import t from 'tap';
import { nestedDeeperThan } from '../../../daemon/common/json-depth.js';

const nested = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

t.test('json depth - counts the levels of arrays and objects; scalars have none', async (t) => {
  t.notOk(nestedDeeperThan('text', 0));
  t.ok(nestedDeeperThan({}, 0));
  t.notOk(nestedDeeperThan({ a: [1, 'x', null] }, 2));
  t.ok(nestedDeeperThan({ a: [{}] }, 2));
  t.notOk(nestedDeeperThan(nested(100), 100), '100 levels are not deeper than 100');
  t.ok(nestedDeeperThan(nested(101), 100), '101 are');
});

t.test('json depth - own __proto__ keys count like any other key', async (t) => {
  const value = JSON.parse('{"__proto__":{"__proto__":{"__proto__":{}}}}');
  t.notOk(nestedDeeperThan(value, 4));
  t.ok(nestedDeeperThan(value, 3));
});

t.test('json depth - 50,000 levels are told apart without running out of stack', async (t) => {
  t.ok(nestedDeeperThan(nested(50_000), 100));
  t.notOk(nestedDeeperThan(nested(50_000), 50_000));
});

t.test('json depth - a wide value is only as deep as its deepest branch', async (t) => {
  const wide = Array.from({ length: 100_000 }, (_, i) => ({ i, tags: [String(i)] }));
  t.notOk(nestedDeeperThan(wide, 3));
  t.ok(nestedDeeperThan([...wide, [[[[]]]]], 3));
});
