import { DURATION_PATTERN } from '../../config/duration.js';

/** What the generated docs read of a JSON Schema: the config's, the plugins' options and the API's. */
export interface DocSchema {
  /** A record of the API's answers: named, and shown in a table of its own. */
  title?: string;
  /** A type, or several (`["string", "null"]`). */
  type?: string | readonly string[];
  const?: unknown;
  enum?: readonly unknown[];
  default?: unknown;
  description?: string;
  pattern?: string;
  duration?: boolean;
  cron?: boolean;
  cidr?: boolean;
  format?: string;
  items?: DocSchema;
  oneOf?: readonly DocSchema[];
  anyOf?: readonly DocSchema[];
  properties?: Readonly<Record<string, DocSchema>>;
  additionalProperties?: boolean | DocSchema;
  required?: readonly string[];
}

/** A type in words, singular and plural: ["duration", "durations"]. */
function typeNames(schema: DocSchema): [string, string] {
  if (schema.title !== undefined) {
    const link = `[${schema.title}](#${schema.title.toLowerCase()})`;
    return [link, `${link} records`];
  }
  if (Array.isArray(schema.type)) {
    const names = schema.type.map((type: string) => typeNames({ ...schema, type }));
    return [names.map(([one]) => one).join(' or '), names.map(([, many]) => many).join(' or ')];
  }
  if (schema.const !== undefined) return [`\`${JSON.stringify(schema.const)}\``, `\`${JSON.stringify(schema.const)}\``];
  // A plugin may take a duration as a string of its own pattern and parse it itself.
  if (schema.duration === true || schema.pattern === DURATION_PATTERN) return ['duration', 'durations'];
  if (schema.cron === true) return ['cron expression', 'cron expressions'];
  if (schema.cidr === true) return ['address or CIDR range', 'addresses or CIDR ranges'];
  if (schema.enum) {
    const values = schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' \\| ');
    return [values, values];
  }
  const forms = schema.oneOf ?? schema.anyOf;
  if (forms) {
    const names = forms.map(typeNames);
    return [names.map(([one]) => one).join(' or '), names.map(([, many]) => many).join(' or ')];
  }
  if (schema.type === 'array') return [`list of ${typeNames(schema.items ?? {})[1]}`, 'lists'];
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object')
    return [`map of ${typeNames(schema.additionalProperties)[1]}`, 'maps'];
  if (schema.type === 'null') return ['null', 'nulls'];
  if (schema.type === 'string' && schema.format !== undefined)
    return [`${schema.format} string`, `${schema.format} strings`];
  if (typeof schema.type === 'string') return [schema.type, `${schema.type}s`];
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
