/**
 * Compiles the payload schemas of the event-type catalog: draft-07 unless a schema's `$schema`
 * names draft 2020-12, standard formats checked through ajv-formats. Compiling happens once per
 * loaded config; ingest only calls the resulting functions.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { HooksdError } from '../daemon/common/errors.js';
import type { EventTypeConfig } from './schema.js';

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020_12 = /^https:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;
const DRAFT_2020_12_URI = 'https://json-schema.org/draft/2020-12/schema';

// Unknown keywords and formats are refused so that a misspelt `requird` fails at start-up
// instead of silently accepting every payload; the stricter style rules of ajv's strict mode
// (types spelt out, required properties declared) would refuse valid schemas, so they are off.
const AJV_OPTIONS: Options = {
  allErrors: true,
  strictSchema: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
};

export interface EventSchemaFailure {
  /** Position of the event type in `eventTypes`. */
  index: number;
  eventType: string;
  message: string;
}

/** Thrown by `compileEventSchemas` with every schema that did not compile. */
export class EventSchemaCompileError extends HooksdError {
  constructor(readonly failures: EventSchemaFailure[]) {
    const lines = failures.map((failure) => `event type "${failure.eventType}": ${failure.message}`);
    super('HOOKSD_CONFIG_INVALID', lines.join('\n'), lines);
    this.name = 'EventSchemaCompileError';
  }
}

/**
 * Returns a validator per event type that has a `schema`; types without one are absent from
 * the map and accept any payload. Throws `EventSchemaCompileError` listing every schema that
 * does not compile.
 */
export function compileEventSchemas(eventTypes: readonly EventTypeConfig[]): Map<string, ValidateFunction> {
  const { validators, failures } = tryCompileEventSchemas(eventTypes);
  if (failures.length > 0) throw new EventSchemaCompileError(failures);
  return validators;
}

/**
 * Compiles what it can and lists what it cannot, for the config loader. All schemas of a
 * dialect share one ajv instance, as in `compileEventSchemas`, so they may `$ref` each other;
 * each call starts fresh instances, so a reloaded catalog may reuse its `$id`s.
 */
export function tryCompileEventSchemas(eventTypes: readonly EventTypeConfig[]): {
  validators: Map<string, ValidateFunction>;
  failures: EventSchemaFailure[];
} {
  let draft07: Ajv | undefined;
  let draft2020: Ajv2020 | undefined;
  const validators = new Map<string, ValidateFunction>();
  const failures: EventSchemaFailure[] = [];
  eventTypes.forEach((eventType, index) => {
    const { schema } = eventType;
    if (schema === undefined) return;
    const dialect = schema.$schema;
    const unsupported =
      dialect !== undefined &&
      !(typeof dialect === 'string' && (DRAFT_07.test(dialect) || DRAFT_2020_12.test(dialect)));
    if (unsupported) {
      const message =
        `unsupported $schema ${JSON.stringify(dialect)}: ` + `leave it out for draft-07 or use "${DRAFT_2020_12_URI}"`;
      failures.push({ index, eventType: eventType.name, message });
      return;
    }
    try {
      if (typeof dialect === 'string' && DRAFT_2020_12.test(dialect)) {
        draft2020 ??= withFormats(new Ajv2020(AJV_OPTIONS));
        validators.set(eventType.name, draft2020.compile(schema));
      } else {
        draft07 ??= withFormats(new Ajv(AJV_OPTIONS));
        validators.set(eventType.name, draft07.compile(schema));
      }
    } catch (error) {
      failures.push({ index, eventType: eventType.name, message: (error as Error).message });
    }
  });
  return { validators, failures };
}

function withFormats<T extends Ajv>(ajv: T): T {
  formatsPlugin.default(ajv);
  return ajv;
}

const MAX_REASONS = 5;

/**
 * One line out of ajv errors, for dead-letter reasons and API answers:
 * `payload/connection: must have required property 'id'; payload/dataType: must be string`.
 */
export function describeValidationErrors(
  errors: readonly ErrorObject[] | null | undefined,
  dataName = 'payload',
): string {
  if (!errors || errors.length === 0) return `${dataName}: is invalid`;
  const reasons = errors
    .slice(0, MAX_REASONS)
    .map((error) => `${dataName}${error.instancePath}: ${describeValidationError(error)}`);
  if (errors.length > MAX_REASONS) reasons.push(`and ${errors.length - MAX_REASONS} more`);
  return reasons.join('; ');
}

/** One ajv error's message, naming the offending property or the allowed values. */
export function describeValidationError(error: ErrorObject): string {
  const message = error.message ?? `fails "${error.keyword}"`;
  if (error.keyword === 'additionalProperties')
    return `${message} (${JSON.stringify(error.params.additionalProperty)})`;
  if (error.keyword === 'const') return `must be ${JSON.stringify(error.params.allowedValue)}`;
  if (error.keyword === 'enum') {
    const allowed = error.params.allowedValues as unknown[];
    return `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  return message;
}
