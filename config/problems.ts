/**
 * The problems of a config that its JSON Schema cannot express, and the wording of those it
 * can: unknown keys with the closest known name, patterns in words, duplicate ids, event
 * schemas that do not compile and examples that do not match them.
 */
import type { ErrorObject } from 'ajv';
import { describeValidationError, describeValidationErrors, tryCompileEventSchemas } from './event-schemas.js';
import { formatPath, isRecord, problemAt, type Locator, type Problem } from './locator.js';
import {
  CONSUMER_ID_PATTERN,
  EVENT_TYPE_PATTERN,
  EVENT_TYPE_SELECTOR_PATTERN,
  HEADER_NAME_PATTERN,
  SECRET_PATTERN,
  type EventTypeConfig,
} from './schema.js';

// Patterns a reader should not have to decipher.
const PATTERN_MEANINGS: Record<string, string> = {
  [CONSUMER_ID_PATTERN]: 'must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
  [EVENT_TYPE_PATTERN]: 'must be dot-separated names of letters, digits, "_" or "-", like "connection.created"',
  [EVENT_TYPE_SELECTOR_PATTERN]: 'must be an event type, a prefix ending in ".*" like "connection.*", or "*"',
  [SECRET_PATTERN]: 'must be "whsec_" followed by the base64 of 24 to 64 bytes',
  [HEADER_NAME_PATTERN]: 'is not a valid HTTP header name',
  '^[Hh][Tt][Tt][Pp][Ss]?://': 'must be an http:// or https:// URL',
};

/** Keys that moved in an earlier release: where they live now. */
const MOVED_KEYS: Record<string, string> = {
  'delivery.retrySchedule': 'schedule',
  'delivery.jitter': 'jitter',
  'delivery.overloadFloor': 'overloadFloor',
};

function movedKeyMessage(path: string): string | undefined {
  const option = MOVED_KEYS[path];
  if (option === undefined) return undefined;
  return (
    'moved to the options of the schedule plugin: ' +
    `pipeline: [eventTypes, payloadFilter, script, standardWebhooks, { use: schedule, options: { ${option}: … } }]`
  );
}

export function schemaProblem(error: ErrorObject, locator: Locator): Problem | undefined {
  // Its cause was reported just before it, at the offending name.
  if (error.keyword === 'propertyNames') return undefined;
  const segments = locator.segments(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
    const suggestion = closestName(key, known);
    const path = formatPath([...segments, key]);
    const message =
      movedKeyMessage(path) ?? `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    return { ...locator.position([...segments, key], true), path, message };
  }
  if (error.propertyName !== undefined) {
    const nameSegments = [...segments, error.propertyName];
    return {
      ...locator.position(nameSegments, true),
      path: formatPath(nameSegments),
      message: describeSchemaError(error),
    };
  }
  return { ...locator.position(segments), path: formatPath(segments), message: describeSchemaError(error) };
}

function describeSchemaError(error: ErrorObject): string {
  return (
    (error.keyword === 'pattern' && PATTERN_MEANINGS[String(error.params.pattern)]) || describeValidationError(error)
  );
}

/** The known key closest to `name`, if one is within two edits. */
function closestName(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

/** Duplicate names, schemas that do not compile, and examples that fail their own schema. */
export function catalogProblems(data: unknown, locator: Locator): Problem[] {
  const eventTypes = isRecord(data) && Array.isArray(data.eventTypes) ? data.eventTypes : [];
  const problems: Problem[] = [];
  const firstIndex = new Map<string, number>();
  const duplicated = new Set<string>();
  const compilable: Array<{ index: number; eventType: EventTypeConfig }> = [];
  eventTypes.forEach((eventType: unknown, index) => {
    if (!isRecord(eventType) || typeof eventType.name !== 'string') return;
    const seenAt = firstIndex.get(eventType.name);
    if (seenAt === undefined) {
      firstIndex.set(eventType.name, index);
    } else {
      duplicated.add(eventType.name);
      const message = `duplicate event type "${eventType.name}" (first at eventTypes[${seenAt}])`;
      problems.push(problemAt(locator, ['eventTypes', index, 'name'], message));
    }
    if (isRecord(eventType.schema)) compilable.push({ index, eventType: eventType as unknown as EventTypeConfig });
  });

  const { validators, failures } = tryCompileEventSchemas(compilable.map(({ eventType }) => eventType));
  const failed = new Set<number>();
  for (const failure of failures) {
    const { index } = compilable[failure.index];
    failed.add(index);
    problems.push(problemAt(locator, ['eventTypes', index, 'schema'], `schema does not compile: ${failure.message}`));
  }
  for (const { index, eventType } of compilable) {
    // A duplicated name has one validator for several schemas; its duplicate is reported already.
    if (eventType.example === undefined || failed.has(index) || duplicated.has(eventType.name)) continue;
    const validate = validators.get(eventType.name);
    if (validate && !validate(eventType.example)) {
      const message = `does not match the schema: ${describeValidationErrors(validate.errors, 'example')}`;
      problems.push(problemAt(locator, ['eventTypes', index, 'example'], message));
    }
  }
  return problems;
}

export function duplicateConsumerProblems(data: unknown, locator: Locator): Problem[] {
  const consumers = isRecord(data) && Array.isArray(data.consumers) ? data.consumers : [];
  const problems: Problem[] = [];
  const firstIndex = new Map<string, number>();
  consumers.forEach((consumer: unknown, index) => {
    if (!isRecord(consumer) || typeof consumer.id !== 'string') return;
    const seenAt = firstIndex.get(consumer.id);
    if (seenAt === undefined) {
      firstIndex.set(consumer.id, index);
    } else {
      const message = `duplicate consumer id "${consumer.id}" (first at consumers[${seenAt}])`;
      problems.push(problemAt(locator, ['consumers', index, 'id'], message));
    }
  });
  return problems;
}
