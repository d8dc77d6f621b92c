/**
 * Reads hooks.config.yaml into a frozen `HooksdConfig`. Every problem in the file is reported
 * at once, each as `FILE:LINE:COLUMN path: message`, located through the `yaml` package's node
 * ranges: syntax errors, unset environment variables, schema errors, duplicate ids and event
 * schemas that do not compile or whose example does not match.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Alias,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import type { ErrorObject } from 'ajv';
import { HooksdError } from '../daemon/errors.js';
import { describeValidationError, describeValidationErrors, tryCompileEventSchemas } from './event-schemas.js';
import {
  configSchema,
  CONSUMER_ID_PATTERN,
  EVENT_TYPE_PATTERN,
  EVENT_TYPE_SELECTOR_PATTERN,
  HEADER_NAME_PATTERN,
  SECRET_PATTERN,
  type EventTypeConfig,
  type HooksdConfig,
  type PluginEntry,
} from './schema.js';
import { validateConfig } from './validate.js';

type Segment = string | number;

interface Problem {
  line: number;
  column: number;
  path: string;
  message: string;
}

export interface ConfigCheck {
  /** Present only when there are no problems. */
  config?: HooksdConfig;
  /** Each as `FILE:LINE:COLUMN path: message`, in file order. */
  problems: string[];
}

/**
 * Reads, validates and freezes the config. Throws `HOOKSD_CONFIG_UNREADABLE` when the file
 * cannot be read and `HOOKSD_CONFIG_INVALID` (details: the problem lines) when it has problems.
 * `${NAME}` and `${NAME:-default}` in string values are taken from `env`.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): HooksdConfig {
  const { config, problems } = checkConfigText(file, readConfigText(file), env);
  if (!config) throw new HooksdError('HOOKSD_CONFIG_INVALID', problems.join('\n'), problems);
  return config;
}

/** `FILE:LINE:COLUMN` of the value at `segments` (e.g. ['pipeline', 2]) in a config file, for errors found after loading. */
export function configLocation(file: string, segments: (string | number)[]): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
  const node = doc.getIn(segments, true) as { range?: [number, number, number] } | undefined;
  const { line, col } = node?.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
  return `${file}:${line}:${col}`;
}

/** Like `loadConfig` but never throws: for `hooksd validate` and reloads. */
export function validateConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): ConfigCheck {
  let text: string;
  try {
    text = readConfigText(file);
  } catch (error) {
    return { problems: [(error as Error).message] };
  }
  return checkConfigText(file, text, env);
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new HooksdError('HOOKSD_CONFIG_UNREADABLE', `cannot read config file ${file}: ${(error as Error).message}`);
  }
}

function checkConfigText(file: string, text: string, env: NodeJS.ProcessEnv): ConfigCheck {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const { line, col } = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: Problem[] = doc.errors.map((error) => ({ ...at(error.pos[0]), path: 'syntax error', message: error.message }));
  if (problems.length > 0) return { problems: formatProblems(file, problems) };

  const unsetPaths = new Set<string>();
  let recursive = false;
  walkValues(doc, doc.contents, [], [], {
    string(node, segments) {
      node.value = substituteEnvironment(node.value as string, env, (name) => {
        const pathText = formatPath(segments);
        unsetPaths.add(pathText);
        problems.push({ ...at(node.range?.[0]), path: pathText, message: `environment variable ${name} is not set` });
      });
    },
    recursiveAlias(node, segments) {
      recursive = true;
      const message = `alias *${node.source} refers to a node that contains it`;
      problems.push({ ...at(node.range?.[0]), path: formatPath(segments), message });
    },
  });
  if (recursive) return { problems: formatProblems(file, problems) };

  const data = copyTree(doc.toJS() ?? {});
  dropEmptySections(data, configSchema);
  const locator = new Locator(doc, data, at);
  if (!validateConfig(data)) {
    for (const error of validateConfig.errors ?? []) {
      const problem = schemaProblem(error, locator);
      if (problem && !unsetPaths.has(problem.path)) problems.push(problem);
    }
  }
  problems.push(...catalogProblems(data, locator), ...duplicateConsumerProblems(data, locator));
  if (problems.length > 0) return { problems: formatProblems(file, problems) };

  const config = data as HooksdConfig;
  resolveRelativePaths(config, path.dirname(path.resolve(file)));
  return { config: deepFreeze(config), problems: [] };
}

function formatProblems(file: string, problems: Problem[]): string[] {
  return problems
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .map(({ line, column, path: pathText, message }) => `${file}:${line}:${column} ${pathText || '(top level)'}: ${message}`);
}

interface ValueVisitor {
  string(node: Scalar, segments: Segment[]): void;
  recursiveAlias(node: Alias, segments: Segment[]): void;
}

/** Visits every string value (not keys), and every alias that would make the data a cycle. */
function walkValues(doc: Document, node: unknown, segments: Segment[], ancestors: unknown[], visitor: ValueVisitor): void {
  const inside = [...ancestors, node];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      walkValues(doc, pair.value, [...segments, key], inside, visitor);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => walkValues(doc, item, [...segments, index], inside, visitor));
  } else if (isScalar(node) && typeof node.value === 'string') {
    visitor.string(node, segments);
  } else if (isAlias(node) && ancestors.includes(node.resolve(doc))) {
    visitor.recursiveAlias(node, segments);
  }
}

// `$${NAME}` escapes a literal `${NAME}`.
const ENV_REFERENCE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** `${NAME}`, and `${NAME:-default}` when NAME is unset or empty, as in a shell. */
function substituteEnvironment(text: string, env: NodeJS.ProcessEnv, onUnset: (name: string) => void): string {
  return text.replace(ENV_REFERENCE, (reference, escaped: string | undefined, name: string, fallback: string | undefined) => {
    if (escaped) return reference.slice(1);
    const value = env[name];
    if (value !== undefined && (value !== '' || fallback === undefined)) return value;
    if (fallback !== undefined) return fallback;
    onUnset(name);
    return '';
  });
}

/**
 * A copy in which an aliased value is no longer the same object as its anchor: validation
 * converts durations in place and must not meet an array it already converted.
 */
function copyTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyTree);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, copyTree(child)]));
  return value;
}

/**
 * A section written with nothing under it (`server:` whose keys are all commented out) reads
 * as null; it means "all defaults", like an empty file.
 */
function dropEmptySections(data: unknown, schema: unknown): void {
  if (!isRecord(data) || !isRecord(schema)) return;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  for (const [key, propertySchema] of Object.entries(properties)) {
    if (!isRecord(propertySchema)) continue;
    if (data[key] === null && typeof propertySchema.default === 'object') delete data[key];
    const value = data[key];
    if (Array.isArray(value)) value.forEach((item) => dropEmptySections(item, propertySchema.items));
    else dropEmptySections(value, propertySchema);
  }
}

/** Finds where a value of the validated data was written in the YAML. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly data: unknown,
    private readonly at: (offset: number | undefined) => { line: number; column: number },
  ) {}

  /** Segments of an ajv `instancePath`, indexes as numbers where the data holds an array. */
  segments(instancePath: string): Segment[] {
    if (instancePath === '') return [];
    const segments: Segment[] = [];
    let value = this.data;
    for (const raw of instancePath.slice(1).split('/')) {
      const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(value)) {
        segments.push(Number(segment));
        value = value[Number(segment)];
      } else {
        segments.push(segment);
        value = isRecord(value) ? value[segment] : undefined;
      }
    }
    return segments;
  }

  /**
   * Line and column of the node at `segments` (of its key when `atKey`), or of the nearest
   * ancestor written in the file when the value came from a default.
   */
  position(segments: Segment[], atKey = false): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let offset = isNodeWithRange(node) ? node.range[0] : undefined;
    for (const [index, segment] of segments.entries()) {
      if (isAlias(node)) node = node.resolve(this.doc);
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
        if (pair && atKey && index === segments.length - 1) next = pair.key;
        else next = pair?.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment];
      }
      if (!isNodeWithRange(next)) break;
      node = next;
      offset = next.range[0];
    }
    return this.at(offset);
  }
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return (isMap(node) || isSeq(node) || isScalar(node) || isAlias(node)) && Array.isArray(node.range);
}

// Patterns a reader should not have to decipher.
const PATTERN_MEANINGS: Record<string, string> = {
  [CONSUMER_ID_PATTERN]: 'must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
  [EVENT_TYPE_PATTERN]: 'must be dot-separated names of letters, digits, "_" or "-", like "connection.created"',
  [EVENT_TYPE_SELECTOR_PATTERN]: 'must be an event type, a prefix ending in ".*" like "connection.*", or "*"',
  [SECRET_PATTERN]: 'must be "whsec_" followed by the base64 of 24 to 64 bytes',
  [HEADER_NAME_PATTERN]: 'is not a valid HTTP header name',
  '^[Hh][Tt][Tt][Pp][Ss]?://': 'must be an http:// or https:// URL',
};

function schemaProblem(error: ErrorObject, locator: Locator): Problem | undefined {
  // Its cause was reported just before it, at the offending name.
  if (error.keyword === 'propertyNames') return undefined;
  const segments = locator.segments(error.instancePath);
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
    const suggestion = closestName(key, known);
    const message = `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
    return { ...locator.position([...segments, key], true), path: formatPath([...segments, key]), message };
  }
  if (error.propertyName !== undefined) {
    const nameSegments = [...segments, error.propertyName];
    return { ...locator.position(nameSegments, true), path: formatPath(nameSegments), message: describeSchemaError(error) };
  }
  return { ...locator.position(segments), path: formatPath(segments), message: describeSchemaError(error) };
}

function describeSchemaError(error: ErrorObject): string {
  return (error.keyword === 'pattern' && PATTERN_MEANINGS[String(error.params.pattern)]) || describeValidationError(error);
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
function catalogProblems(data: unknown, locator: Locator): Problem[] {
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

function duplicateConsumerProblems(data: unknown, locator: Locator): Problem[] {
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

function problemAt(locator: Locator, segments: Segment[], message: string): Problem {
  return { ...locator.position(segments), path: formatPath(segments), message };
}

/** `consumers[2].retrySchedule[0]`, `consumers[0].headers["X-Api-Key"]`. */
function formatPath(segments: Segment[]): string {
  return segments
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
}

/** Paths in the file are relative to the file, not to wherever hooksd was started from. */
function resolveRelativePaths(config: HooksdConfig, directory: string): void {
  const relativeModule = (specifier: string) => (/^\.\.?\//.test(specifier) ? path.resolve(directory, specifier) : specifier);
  config.storage.path = path.resolve(directory, config.storage.path);
  const relativePlugin = (entry: PluginEntry): PluginEntry => (typeof entry === 'string' ? relativeModule(entry) : { ...entry, use: relativeModule(entry.use) });
  config.pipeline = config.pipeline.map(relativePlugin);
  for (const consumer of config.consumers) {
    consumer.plugins = consumer.plugins.map(relativePlugin);
    if (consumer.transform !== undefined) consumer.transform = relativeModule(consumer.transform);
    for (const key of ['cert', 'key', 'ca'] as const) {
      const value = consumer.tls[key];
      // A PEM block given inline (often through an environment variable) is not a path.
      if (value !== undefined && !value.startsWith('-----BEGIN')) consumer.tls[key] = path.resolve(directory, value);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
