/**
 * The ajv instance behind hooks.config.yaml, built once. Validating a config applies its
 * defaults and turns every duration string into milliseconds, in place: after a successful
 * call the object is a `ValidatedConfig`.
 */
import { Ajv, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { isIP } from 'node:net';
import { validateCronExpression } from 'cron';
import { parseDuration } from './duration.js';
import { configSchema, type ValidatedConfig } from './schema.js';

const DURATION_MESSAGE = 'must be a duration like "250ms", "5s", "5m", "2h", "5d"';

const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
  'user-agent',
]);

/** Headers hooksd writes on every request itself: the transport's and the `webhook-*` signature set. */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADERS.has(lower) || lower.startsWith('webhook-');
}

function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function durationToMs(value: unknown): number | undefined {
  // An unquoted 0 in YAML is a number; it means the same as "0".
  if (value === 0) return 0;
  if (typeof value !== 'string') return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

/**
 * Teaches an ajv instance the config schema's own keywords, for any instance that validates
 * parts of it (the API validating a consumer body, say): `duration` checks a duration and
 * replaces it with milliseconds in its parent; `notReservedHeader` refuses header names
 * hooksd sets itself; `cron` checks a cron expression; `cidr` an address range.
 */
export function addConfigKeywords(ajv: Ajv): Ajv {
  ajv.addKeyword({
    keyword: 'duration',
    schemaType: 'boolean',
    modifying: true,
    errors: false,
    error: { message: DURATION_MESSAGE },
    validate(enabled: boolean, value: unknown, _schema, dataCxt) {
      if (!enabled) return true;
      const ms = durationToMs(value);
      if (ms === undefined) return false;
      if (dataCxt) dataCxt.parentData[dataCxt.parentDataProperty] = ms;
      return true;
    },
  });
  const notReservedHeader: SchemaValidateFunction = (enabled: boolean, name: unknown) => {
    if (!enabled || typeof name !== 'string' || !isReservedHeader(name)) return true;
    notReservedHeader.errors = [
      {
        keyword: 'notReservedHeader',
        propertyName: name,
        params: { header: name },
        message: `header "${name}" is set by hooksd and cannot be configured`,
      },
    ];
    return false;
  };
  ajv.addKeyword({ keyword: 'notReservedHeader', type: 'string', schemaType: 'boolean', validate: notReservedHeader });
  const cron: SchemaValidateFunction = (enabled: boolean, expression: unknown) => {
    if (!enabled || typeof expression !== 'string') return true;
    const { valid, error } = validateCronExpression(expression);
    if (valid) return true;
    cron.errors = [
      {
        keyword: 'cron',
        params: {},
        message: `must be a cron expression with seconds, like "*/5 * * * * *" (${error?.message ?? 'invalid'})`,
      },
    ];
    return false;
  };
  ajv.addKeyword({ keyword: 'cron', type: 'string', schemaType: 'boolean', validate: cron });
  ajv.addKeyword({
    keyword: 'cidr',
    type: 'string',
    schemaType: 'boolean',
    error: { message: 'must be an IP address or a CIDR range, like "10.1.0.0/16" or "fd00::/8"' },
    validate: (enabled: boolean, value: string) => !enabled || isCidr(value),
  });
  return ajv;
}

function createConfigAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strictTypes: false, strictTuples: false });
  formatsPlugin.default(ajv);
  return addConfigKeywords(ajv);
}

/**
 * Validates a parsed hooks.config.yaml, collecting every error (`allErrors`), filling in
 * defaults and converting durations to milliseconds. Errors carry `parentSchema` (`verbose`)
 * so the loader can suggest the key that was meant.
 */
export const validateConfig: ValidateFunction<ValidatedConfig> =
  createConfigAjv().compile<ValidatedConfig>(configSchema);
