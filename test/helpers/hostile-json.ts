import fc from 'fast-check';

/**
 * Hostile JSON for the fuzzers, as values and as text. Text matters: a value that JSON.stringify
 * cannot write (50,000 levels deep) or cannot produce (a key given twice, a number past
 * Number.MAX_VALUE, an escaped lone surrogate) is exactly what a careless publisher sends.
 */

/** Keys that reach an object's prototype when code assigns or merges objects naively. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

const key = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS, 'polluted', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'kind', ''),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

const scalar = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** A JSON value of a few levels whose object keys are often `__proto__`, `constructor` or `prototype`. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** `depth` levels of arrays, of objects, or of both in turn, as text: too deep for JSON.stringify to write. */
export function nestedText(depth: number, style: 'array' | 'object' | 'mixed', leaf = 'null'): string {
  const open = { array: '[', object: '{"a":', mixed: '[{"__proto__":' }[style];
  const close = { array: ']', object: '}', mixed: '}]' }[style];
  return open.repeat(depth) + leaf + close.repeat(depth);
}

const style = fc.constantFrom('array' as const, 'object' as const, 'mixed' as const);

/** Nested past the 4,000 or so levels where JSON.stringify runs out of stack, and less: up to 6,000. */
export const deepText = fc.tuple(fc.integer({ min: 1, max: 6_000 }), style).map(([depth, s]) => nestedText(depth, s));

/** 50,000 levels, or about as many: from 8,000 to 60,000. */
export const veryDeepText = fc
  .tuple(fc.oneof(fc.constant(50_000), fc.integer({ min: 8_000, max: 60_000 })), style)
  .map(([depth, s]) => nestedText(depth, s));

/** Odd JSON text: numbers past a double, a key given twice, escaped lone surrogates and NUL, prototype keys. */
const oddText = fc.constantFrom(
  '1e400',
  '-1e400',
  '-0',
  '123456789012345678901234567890',
  '"\\ud800"',
  '"\\udc00x\\ud83d"',
  '"\\u0000"',
  '{"a":1,"a":2}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '[{"__proto__":[]},{"__proto__":null}]',
);

/** Any JSON text: a hostile value, a deep one, an odd one, or a long string. */
export const jsonText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileValue.map((value) => JSON.stringify(value) ?? 'null'), weight: 8 },
  { arbitrary: deepText, weight: 1 },
  { arbitrary: oddText, weight: 2 },
  { arbitrary: fc.integer({ min: 1_000, max: 10_000 }).map((n) => JSON.stringify('x'.repeat(n))), weight: 1 },
);

/** A JSON object as text from `[key, value text]` fields, which may repeat a key. */
export function objectText(fields: readonly (readonly [string, string])[]): string {
  return '{' + fields.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',') + '}';
}

const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };

/** Every own property of the built-in prototypes hostile input could reach, with its value. */
export function prototypeSnapshot(): Map<string, unknown> {
  const snapshot = new Map<string, unknown>();
  for (const [name, proto] of Object.entries(PROTOTYPES)) {
    for (const key of Reflect.ownKeys(proto)) {
      const { value, get, set } = Object.getOwnPropertyDescriptor(proto, key)!;
      snapshot.set(`${name}.prototype.${String(key)}`, value ?? [get, set]);
    }
  }
  return snapshot;
}

/** The properties added to, removed from or changed on the built-in prototypes since `before`. */
export function prototypeChanges(before: Map<string, unknown>): string[] {
  const after = prototypeSnapshot();
  const same = (a: unknown, b: unknown) =>
    Array.isArray(a) && Array.isArray(b) ? a[0] === b[0] && a[1] === b[1] : Object.is(a, b);
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((name) => !before.has(name) || !after.has(name) || !same(before.get(name), after.get(name)));
}
