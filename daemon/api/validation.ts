import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { HooksdError } from '../errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** One ajv for API inputs: query strings are coerced from strings, defaults are applied. */
const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, removeAdditional: false });
addFormats(ajv);

export const pageQuerySchema = {
  limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
  cursor: { type: 'string', minLength: 1, maxLength: 1024 },
  since: { type: 'string', format: 'date-time' },
  until: { type: 'string', format: 'date-time' },
} as const;

/** Times in queries arrive as ISO 8601 strings and leave as milliseconds. */
type WithTimes<T> = Omit<T, 'since' | 'until'> & { since?: number; until?: number };

export function compileQuery<T extends object>(properties: Record<string, unknown>): (query: unknown) => WithTimes<T> {
  const validate = ajv.compile({ type: 'object', additionalProperties: false, properties });
  return (query) => {
    const valid = check<T & { since?: string; until?: string }>(validate, { ...(query as object) }, 'query');
    const { since, until, ...rest } = valid;
    return { ...rest, since: since === undefined ? undefined : Date.parse(since), until: until === undefined ? undefined : Date.parse(until) };
  };
}

function check<T>(validate: ValidateFunction, value: unknown, where: string): T {
  if (!validate(value)) {
    const details = (validate.errors ?? []).map((e) => describe(e, where));
    throw new HooksdError('HOOKSD_INVALID_REQUEST', details.join('; '), details);
  }
  return value as T;
}

function describe(error: ErrorObject, where: string): string {
  const field = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') return `${where}: unknown parameter "${error.params.additionalProperty}"`;
  return `${where}${field ? '.' + field : ''}: ${error.message}`;
}
