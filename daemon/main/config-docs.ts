import { DURATION_PATTERN } from '../../config/duration.js';
import { configSchema, type HooksdConfig } from '../../config/schema.js';
import { sectionsNeedingRestart } from './settings.js';

/** What the docs read of a JSON Schema: the config's and the plugins' option schemas. */
export interface DocSchema {
  type?: string;
  enum?: readonly unknown[];
  default?: unknown;
  description?: string;
  pattern?: string;
  duration?: boolean;
  cron?: boolean;
  cidr?: boolean;
  items?: DocSchema;
  oneOf?: readonly DocSchema[];
  properties?: Readonly<Record<string, DocSchema>>;
  additionalProperties?: boolean | DocSchema;
  required?: readonly string[];
}

/** A type in words, singular and plural: ["duration", "durations"]. */
function typeNames(schema: DocSchema): [string, string] {
  // A plugin may take a duration as a string of its own pattern and parse it itself.
  if (schema.duration === true || schema.pattern === DURATION_PATTERN) return ['duration', 'durations'];
  if (schema.cron === true) return ['cron expression', 'cron expressions'];
  if (schema.cidr === true) return ['address or CIDR range', 'addresses or CIDR ranges'];
  if (schema.enum) {
    const values = schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' \\| ');
    return [values, values];
  }
  if (schema.oneOf) {
    const names = schema.oneOf.map(typeNames);
    return [names.map(([one]) => one).join(' or '), names.map(([, many]) => many).join(' or ')];
  }
  if (schema.type === 'array') return [`list of ${typeNames(schema.items ?? {})[1]}`, 'lists'];
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object')
    return [`map of ${typeNames(schema.additionalProperties)[1]}`, 'maps'];
  if (schema.type !== undefined) return [schema.type, `${schema.type}s`];
  return ['any', 'values'];
}

/** The type column of the docs: "duration", "list of durations", `"reject"` \| `"deliver"`, "map of strings". */
export function schemaType(schema: DocSchema): string {
  return typeNames(schema)[0];
}

/** A default as the docs show it: JSON, lists spaced. */
export function showValue(value: unknown): string {
  return Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(', ')}]` : JSON.stringify(value);
}

/** Text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export interface ConfigKey {
  /** Dotted, with `[]` for the items of a list: `consumers[].tls.cert`. */
  path: string;
  schema: DocSchema;
  required: boolean;
}

/** The keys below a schema: an object's properties, a list's items' keys, those of each `oneOf` form. */
function keysBelow(schema: DocSchema, path: string): ConfigKey[] {
  if (schema.type === 'array' && schema.items) return keysBelow(schema.items, `${path}[]`);
  if (schema.oneOf) return schema.oneOf.flatMap((form) => keysBelow(form, path));
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const key = {
      path: path === '' ? name : `${path}.${name}`,
      schema: child,
      required: !!schema.required?.includes(name),
    };
    return [key, ...keysBelow(child, key.path)];
  });
}

/** Every key of hooks.config.yaml, in schema order, nested keys after their parent. */
export function configKeys(): ConfigKey[] {
  return keysBelow(configSchema, '');
}

const isSection = (schema: DocSchema) => schema.type === 'object' && schema.properties !== undefined;

function keyRow({ path, schema, required }: ConfigKey): string {
  const fallback = required
    ? 'required'
    : schema.default === undefined || isSection(schema)
      ? ''
      : `\`${cell(showValue(schema.default))}\``;
  return `| \`${path}\` | ${schemaType(schema)} | ${fallback} | ${cell(schema.description ?? '')} |`;
}

/** The top-level keys whose changes wait for a restart, as a reload tells them. */
function restartOnly(names: string[]): string[] {
  return names.filter((name) => {
    const changed = { [name]: true } as unknown as HooksdConfig;
    return sectionsNeedingRestart({} as HooksdConfig, changed).length > 0;
  });
}

/** docs/config.md, generated from the config schema: every key with its type, default and description. */
export function renderConfigDocs(): string {
  const top = Object.entries(configSchema.properties as Record<string, DocSchema>);
  const code = (names: string[]) =>
    names
      .map((name) => `\`${name}\``)
      .join(', ')
      .replace(/, ([^,]*)$/, ' and $1');
  const lines = [
    '# Configuration',
    '',
    '<!-- Generated from config/schema.ts by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'hooksd reads one YAML file: `--config FILE`, else `$HOOKSD_CONFIG`, else `./hooks.config.yaml`.',
    'Every key is optional unless marked required: a key left out, a section with nothing under it',
    'and an empty file all mean the defaults below. An unknown key is an error.',
    '`hooksd validate --config FILE` checks a file without starting anything and prints every',
    'problem as `FILE:LINE:COLUMN key: message`. The shipped `hooks.config.yaml` is a commented example.',
    '',
    'hooksd reloads the file when it changes and on SIGHUP; a file with problems is refused and',
    `the running config stays. Changes to ${code(restartOnly(top.map(([name]) => name)))} take effect`,
    'at the next restart (the log says so when a reload meets one); the rest applies at once.',
    '',
    '## Durations',
    '',
    'A duration is a string: a whole number and a unit, `ms`, `s`, `m`, `h` or `d`, such as `"250ms"`,',
    '`"5s"`, `"5m"`, `"2h"` or `"5d"`; `"0"` (or `0`) means none.',
    '',
    '## Environment variables',
    '',
    'Any string value (not a key) may read the environment when the file is loaded:',
    '',
    '- `${NAME}` becomes the value of NAME; NAME not set is a problem, reported at its line.',
    '- `${NAME:-fallback}` becomes the value of NAME, or `fallback` when NAME is unset or empty.',
    '- `$${NAME}` is the text `${NAME}`, kept as it is.',
    '',
    'The result is still a string: use it for strings and durations (`timeout: "${TIMEOUT:-5s}"`),',
    'not for numbers or booleans. Quote such values in flow style (`{ token: "${TOKEN}" }`).',
    '',
    '## Relative paths',
    '',
    "Paths are relative to the config file's folder, not to the folder hooksd was started from:",
    '`storage.path`, `consumers[].transform`, `consumers[].tls.cert`, `.key` and `.ca` (unless they',
    'hold PEM text), and plugin modules in `pipeline` and `consumers[].plugins`. A plugin module',
    'path starts with `./`, `../` or `/`; any other name is a built-in plugin.',
  ];
  for (const [name, schema] of top) {
    // A section's description heads its table; a list's is in its own row.
    lines.push('', `## ${name}`, '', ...(isSection(schema) ? [schema.description ?? '', ''] : []));
    lines.push('| key | type | default | description |', '|---|---|---|---|');
    if (!isSection(schema)) lines.push(keyRow({ path: name, schema, required: false }));
    for (const key of keysBelow(schema, name)) lines.push(keyRow(key));
  }
  return lines.join('\n') + '\n';
}
