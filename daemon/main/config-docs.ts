import { configSchema } from '../../config/schema.js';
import { cell, schemaType, showValue, type DocSchema } from './schema-words.js';
import { RESTART_ONLY, RESTART_ONLY_KEYS } from './settings.js';

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
    `the running config stays. Changes to ${code([...RESTART_ONLY, ...RESTART_ONLY_KEYS])} take effect`,
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
