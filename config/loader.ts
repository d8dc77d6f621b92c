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
  type Scalar,
} from 'yaml';
import { HooksdError } from '../daemon/common/errors.js';
import { formatPath, isRecord, Locator, type Problem, type Segment } from './locator.js';
import { catalogProblems, duplicateConsumerProblems, schemaProblem } from './problems.js';
import { configSchema, type HooksdConfig, type ValidatedConfig } from './schema.js';
import { validateConfig } from './validate.js';

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

/**
 * `FILE:LINE:COLUMN` of the value at `segments` (e.g. ['pipeline', 2]) in a config file, for
 * errors found after loading.
 */
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
  const problems: Problem[] = doc.errors.map((error) => ({
    ...at(error.pos[0]),
    path: 'syntax error',
    message: error.message,
  }));
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

  // validateConfig found no problem, and nor did the checks after it: `data` is a ValidatedConfig.
  const config = data as ValidatedConfig;
  resolveRelativePaths(config, path.dirname(path.resolve(file)));
  return { config: deepFreeze<HooksdConfig>(config), problems: [] };
}

function formatProblems(file: string, problems: Problem[]): string[] {
  return problems
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .map(
      ({ line, column, path: pathText, message }) =>
        `${file}:${line}:${column} ${pathText || '(top level)'}: ${message}`,
    );
}

interface ValueVisitor {
  string(node: Scalar, segments: Segment[]): void;
  recursiveAlias(node: Alias, segments: Segment[]): void;
}

/** Visits every string value (not keys), and every alias that would make the data a cycle. */
function walkValues(
  doc: Document,
  node: unknown,
  segments: Segment[],
  ancestors: unknown[],
  visitor: ValueVisitor,
): void {
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
  return text.replace(
    ENV_REFERENCE,
    (reference, escaped: string | undefined, name: string, fallback: string | undefined) => {
      if (escaped) return reference.slice(1);
      const value = env[name];
      if (value !== undefined && (value !== '' || fallback === undefined)) return value;
      if (fallback !== undefined) return fallback;
      onUnset(name);
      return '';
    },
  );
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

/** Paths in the file are relative to the file, not to wherever hooksd was started from. */
function resolveRelativePaths(config: ValidatedConfig, directory: string): void {
  const relativeModule = (specifier: string) =>
    /^\.\.?\//.test(specifier) ? path.resolve(directory, specifier) : specifier;
  config.storage.path = path.resolve(directory, config.storage.path);
  type PluginEntry = ValidatedConfig['pipeline'][number];
  const relativePlugin = (entry: PluginEntry): PluginEntry =>
    typeof entry === 'string' ? relativeModule(entry) : { ...entry, use: relativeModule(entry.use) };
  config.pipeline = config.pipeline.map(relativePlugin);
  config.delivery.transport = relativePlugin(config.delivery.transport);
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
