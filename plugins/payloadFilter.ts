import { HooksdError } from '../daemon/common/errors.js';
import type { PluginDefinition } from './contract.js';
import safeRegex from 'safe-regex2';

/** A filter that cannot be compiled. `path` says where in the filter, e.g. `$and[1].payload.name.$regex`. */
export class FilterError extends HooksdError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super('HOOKSD_FILTER_INVALID', path === '' ? reason : `${path}: ${reason}`);
    this.name = 'FilterError';
  }
}

type Predicate = (value: unknown) => boolean;

/** The envelope's fields: a path starting anywhere else is a typo that would skip every event. */
const ENVELOPE_FIELDS = new Set(['id', 'eventType', 'generatedDate', 'payload']);
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const FIELD_OPERATORS = [
  '$eq',
  '$neq',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exist',
  '$regex',
  '$startsWith',
  '$endsWith',
  '$not',
];
const MAX_PATTERN_LENGTH = 1000;
// No g or y: a RegExp with either keeps lastIndex between test() calls, so one event would change the next one's
// result.
const REGEX_FLAGS = /^(?!.*(.).*\1)[imsu]*$/;

/**
 * Compiles a MongoDB-like filter over the event envelope `{id, eventType, generatedDate, payload}`
 * into a predicate; the returned function does no parsing and compiles no regex.
 *
 * Each top-level key is a dotted path from the envelope (`payload.referenceCompany.tags.region`)
 * holding a literal (shorthand for `$eq`) or an object of operators, all of which must hold:
 * `$eq $neq $gt $gte $lt $lte $in $nin $exist $regex $startsWith $endsWith`, and `$not` holding
 * another object of operators. `$and` and `$or` take non-empty arrays of filters, `$not` a filter.
 * All keys of a filter must hold; `{}` matches every event.
 *
 * - No type coercion: `"10"` never equals `10`; `$gt $gte $lt $lte` compare a number with a
 *   number or a string with a string (by UTF-16 code units, so ISO dates order correctly) and
 *   are false otherwise; `$regex $startsWith $endsWith` are false on anything but a string.
 *   `$eq` and `$in` compare objects and arrays deeply.
 * - A missing path (lookups see own properties only) fails every operator except
 *   `$exist: false`, `$neq` and `$nin`, which hold: "not equal to x" is true of an absent value,
 *   as in MongoDB. A path whose value is null exists.
 * - A path that crosses an array (at any depth of nesting) is looked up in every element, and a
 *   condition holds when any value found satisfies it. An array at the end of the path is tested
 *   both whole and element by element, so `$eq: "a"` and `$eq: ["a", "b"]` both match
 *   `["a", "b"]`. `$neq` and `$nin` are the negations of `$eq` and `$in`: no value found matches.
 *   Each operator of an object looks for its own match: `{$gt: 1, $lt: 5}` holds on `[0, 9]`.
 *
 * Throws FilterError naming the place of the first problem: an unknown operator or envelope
 * field, an operand of the wrong type, an empty `$and`/`$or`, a `__proto__`, `constructor` or
 * `prototype` path segment, or a regex that is invalid, longer than 1000 characters, or could
 * backtrack catastrophically (nested quantifiers or more than 25 of them, checked by
 * safe-regex2; syntax it cannot analyse, such as lookbehind, is refused too).
 */
export function compilePayloadFilter(filter: Record<string, unknown>): (envelope: unknown) => boolean {
  const predicate = compileFilter(filter, '');
  // Paths fan out over arrays; an array in place of the envelope is no envelope, so it has no paths.
  return (envelope) => predicate(isRecord(envelope) ? envelope : undefined);
}

function compileFilter(filter: unknown, at: string): Predicate {
  if (!isRecord(filter)) throw new FilterError(at, 'a filter must be an object of conditions');
  return allOf(Object.entries(filter).map(([key, operand]) => compileClause(key, operand, at)));
}

function compileClause(key: string, operand: unknown, at: string): Predicate {
  const here = join(at, key);
  switch (key) {
    case '$and':
      return allOf(compileFilterList(operand, here));
    case '$or':
      return anyOf(compileFilterList(operand, here));
    case '$not': {
      const inner = compileFilter(operand, here);
      return (envelope) => !inner(envelope);
    }
  }
  if (key.startsWith('$'))
    throw new FilterError(here, 'unknown operator; a filter key is a dotted path or one of $and, $or, $not');
  const segments = parsePath(key, here);
  if (isOperatorObject(operand, here)) return compileOperators(operand, segments, here);
  const equals = equalityTest(jsonOperand(operand, here));
  return (envelope) => anyAt(envelope, segments, 0, equals);
}

function compileFilterList(operand: unknown, at: string): Predicate[] {
  if (!Array.isArray(operand)) throw new FilterError(at, 'must be an array of filters');
  if (operand.length === 0) throw new FilterError(at, 'must hold at least one filter');
  return operand.map((filter, index) => compileFilter(filter, `${at}[${index}]`));
}

function parsePath(key: string, at: string): string[] {
  const segments = key.split('.');
  for (const segment of segments) {
    if (segment === '') throw new FilterError(at, 'a path has no empty segments');
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new FilterError(at, `"${segment}" is not allowed in a path`);
  }
  if (!ENVELOPE_FIELDS.has(segments[0]))
    throw new FilterError(at, 'a path starts at an envelope field: id, eventType, generatedDate or payload');
  return segments;
}

/** An object whose keys all start with `$`; an object with none is a literal, one mixing both is refused. */
function isOperatorObject(operand: unknown, at: string): operand is Record<string, unknown> {
  if (!isRecord(operand)) return false;
  const keys = Object.keys(operand);
  const operatorCount = keys.filter((key) => key.startsWith('$')).length;
  if (operatorCount > 0 && operatorCount < keys.length)
    throw new FilterError(at, 'mixes operators with plain keys; compare a whole object with $eq');
  return operatorCount > 0;
}

function compileOperators(operators: Record<string, unknown>, segments: readonly string[], at: string): Predicate {
  return allOf(
    Object.entries(operators).map(([operator, operand]) =>
      compileOperator(operator, operand, segments, join(at, operator)),
    ),
  );
}

function compileOperator(operator: string, operand: unknown, segments: readonly string[], at: string): Predicate {
  const some =
    (test: Predicate): Predicate =>
    (envelope) =>
      anyAt(envelope, segments, 0, test);
  const none =
    (test: Predicate): Predicate =>
    (envelope) =>
      !anyAt(envelope, segments, 0, test);
  switch (operator) {
    case '$eq':
      return some(equalityTest(jsonOperand(operand, at)));
    case '$neq':
      return none(equalityTest(jsonOperand(operand, at)));
    case '$in':
      return some(membershipTest(listOperand(operand, at)));
    case '$nin':
      return none(membershipTest(listOperand(operand, at)));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return some(orderTest(operator, orderedOperand(operand, at)));
    case '$exist':
      if (typeof operand !== 'boolean') throw new FilterError(at, 'must be true or false');
      return operand ? some(isPresent) : none(isPresent);
    case '$regex': {
      const regex = compileRegex(operand, at);
      return some((value) => typeof value === 'string' && regex.test(value));
    }
    case '$startsWith': {
      const prefix = stringOperand(operand, at);
      return some((value) => typeof value === 'string' && value.startsWith(prefix));
    }
    case '$endsWith': {
      const suffix = stringOperand(operand, at);
      return some((value) => typeof value === 'string' && value.endsWith(suffix));
    }
    case '$not': {
      if (!isOperatorObject(operand, at)) throw new FilterError(at, 'must be an object of operators, e.g. { $gt: 5 }');
      const inner = compileOperators(operand, segments, at);
      return (envelope) => !inner(envelope);
    }
  }
  throw new FilterError(at, `unknown operator; use one of ${FIELD_OPERATORS.join(' ')}`);
}

/**
 * Whether `test` holds for some value at `segments[index..]` below `value`: arrays on the way are
 * crossed element by element, and an array at the end is tested whole and element by element.
 */
function anyAt(value: unknown, segments: readonly string[], index: number, test: Predicate): boolean {
  if (index === segments.length) {
    if (test(value)) return true;
    if (!Array.isArray(value)) return false;
    for (const element of value) if (test(element)) return true;
    return false;
  }
  if (Array.isArray(value)) {
    for (const element of value) if (anyAt(element, segments, index, test)) return true;
    return false;
  }
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segments[index])) return false;
  return anyAt((value as Record<string, unknown>)[segments[index]], segments, index + 1, test);
}

const isPresent: Predicate = () => true;

function equalityTest(expected: unknown): Predicate {
  if (expected === null || typeof expected !== 'object') return (value) => value === expected;
  return (value) => deepEqual(value, expected);
}

function membershipTest(list: readonly unknown[]): Predicate {
  const scalars = new Set(list.filter((item) => item === null || typeof item !== 'object'));
  const composites = list.filter((item) => item !== null && typeof item === 'object');
  if (composites.length === 0) return (value) => scalars.has(value);
  return (value) => scalars.has(value) || composites.some((item) => deepEqual(value, item));
}

function orderTest(operator: '$gt' | '$gte' | '$lt' | '$lte', bound: number | string): Predicate {
  const type = typeof bound;
  const comparable = (value: unknown): value is number | string => typeof value === type;
  switch (operator) {
    case '$gt':
      return (value) => comparable(value) && value > bound;
    case '$gte':
      return (value) => comparable(value) && value >= bound;
    case '$lt':
      return (value) => comparable(value) && value < bound;
    case '$lte':
      return (value) => comparable(value) && value <= bound;
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key) || !deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
      return false;
  }
  return true;
}

function compileRegex(operand: unknown, at: string): RegExp {
  if (typeof operand === 'string') return checkedRegex(operand, '', at);
  if (!isRecord(operand)) throw new FilterError(at, 'must be a pattern string or { pattern, flags }');
  for (const key of Object.keys(operand)) {
    if (key !== 'pattern' && key !== 'flags')
      throw new FilterError(join(at, key), 'unknown key; use pattern and flags');
  }
  const { pattern, flags = '' } = operand;
  if (typeof pattern !== 'string') throw new FilterError(join(at, 'pattern'), 'must be a string');
  if (typeof flags !== 'string' || !REGEX_FLAGS.test(flags))
    throw new FilterError(join(at, 'flags'), 'must be a string of distinct flags among i, m, s, u');
  return checkedRegex(pattern, flags, join(at, 'pattern'));
}

function checkedRegex(pattern: string, flags: string, at: string): RegExp {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new FilterError(at, `a pattern is at most ${MAX_PATTERN_LENGTH} characters`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, flags);
  } catch (error) {
    throw new FilterError(at, `invalid regular expression: ${(error as Error).message}`);
  }
  if (!safeRegex(pattern)) {
    throw new FilterError(
      at,
      'the pattern could backtrack catastrophically (nested quantifiers such as (a+)+, more than 25 quantifiers, ' +
        'or syntax the check cannot analyse such as lookbehind)',
    );
  }
  return regex;
}

function jsonOperand(operand: unknown, at: string): unknown {
  if (!isJsonValue(operand))
    throw new FilterError(at, 'must be a JSON value: string, finite number, boolean, null, array or object');
  return operand;
}

function listOperand(operand: unknown, at: string): unknown[] {
  if (!Array.isArray(operand)) throw new FilterError(at, 'must be an array of values');
  return jsonOperand(operand, at) as unknown[];
}

function orderedOperand(operand: unknown, at: string): number | string {
  if (typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))) return operand;
  throw new FilterError(at, 'must be a finite number or a string');
}

function stringOperand(operand: unknown, at: string): string {
  if (typeof operand !== 'string') throw new FilterError(at, 'must be a string');
  return operand;
}

function isJsonValue(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  return isRecord(value) && Object.values(value).every(isJsonValue);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function allOf(predicates: readonly Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0];
  return (envelope) => {
    for (const predicate of predicates) if (!predicate(envelope)) return false;
    return true;
  };
}

function anyOf(predicates: readonly Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0];
  return (envelope) => {
    for (const predicate of predicates) if (predicate(envelope)) return true;
    return false;
  };
}

function join(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

export const payloadFilterPlugin: PluginDefinition<'filter'> = {
  name: 'payloadFilter',
  kind: 'filter',
  description:
    "Delivers an event to a consumer only when the envelope matches the consumer's `filter`: keys are dotted paths " +
    '(`payload.referenceCompany.tags.region`) holding a literal or operators `$eq $neq $gt $gte $lt $lte $in $nin ' +
    '$exist $regex $startsWith $endsWith $not`, combined with `$and`, `$or`, `$not`. No type coercion; a path ' +
    'crossing an array matches when any element does; regexes that could backtrack catastrophically are refused at ' +
    'load. Consumers without `filter` get every event.',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  example:
    'consumers:\n  - id: billing\n    url: https://billing.example.com/webhooks\n    filter: { ' +
    'payload.referenceCompany.tags.region: { $eq: us } }',
  create: () => ({
    forConsumer: (consumer) => (consumer.filter === undefined ? null : compilePayloadFilter(consumer.filter)),
  }),
};
