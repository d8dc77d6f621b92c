import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { addConfigKeywords } from '../../config/validate.js';
import { HooksdError } from '../common/errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../common/json-depth.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Query strings arrive as text and are coerced to the schema's types; bodies are JSON and are not. */
const queryAjv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true });
const bodyAjv = new Ajv({ allErrors: true, useDefaults: true });
addFormats(queryAjv);
addFormats(bodyAjv);
for (const ajv of [queryAjv, bodyAjv]) {
  // ajv-formats takes a leap second (23:59:60) as a date-time, which Date.parse reads as NaN: a
  // recover task from NaN was stored, and no answer could show it. Only dates JavaScript reads pass.
  const { validate } = ajv.formats['date-time'] as { validate: (text: string) => boolean };
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (text: string) => validate(text) && !Number.isNaN(Date.parse(text)),
  });
}
// Consumer bodies reuse the config schema, durations and header rules included.
addConfigKeywords(bodyAjv);

export const pageQuerySchema = {
  limit: { type: 'integer', minimum: 1, maximum: 250, default: 50, description: 'Records on the page, at most 250.' },
  cursor: {
    type: 'string',
    minLength: 1,
    maxLength: 1024,
    description: "The previous page's `nextCursor`, with the same filters.",
  },
  since: { type: 'string', format: 'date-time', description: 'Only records created at or after this time.' },
  until: { type: 'string', format: 'date-time', description: 'Only records created before this time.' },
} as const;

export type Query = Record<string, unknown>;

/** A query string validator; `since` and `until` arrive as ISO 8601 strings and leave as milliseconds. */
export function compileQuery<T extends object>(properties: Record<string, unknown>): (query: unknown) => T {
  const validate = queryAjv.compile({ type: 'object', additionalProperties: false, properties });
  return (query) => {
    const valid = check<Query>(validate, { ...(query as object) }, 'query');
    for (const key of ['since', 'until']) {
      if (typeof valid[key] === 'string') valid[key] = Date.parse(valid[key] as string);
    }
    return valid as T;
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
  if (error.keyword === 'additionalProperties')
    return `${where}: unknown parameter "${error.params.additionalProperty}"`;
  return `${where}${field ? '.' + field : ''}: ${error.message}`;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The bytes of a request body, up to MAX_BODY_BYTES. Past that it throws HOOKSD_BODY_TOO_LARGE
 * and lets the rest flow by unread: destroying the request (as leaving a for-await loop does)
 * would close the connection under the 413 answer, or just after it, when the client sends its
 * next request on it.
 */
function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).off('error', reject);
      // With no listener left, the stream keeps flowing and drops what comes.
      req.on('data', () => undefined);
      reject(new HooksdError('HOOKSD_BODY_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`));
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/** Reads and parses a JSON request body (an empty body reads as `{}`). */
export async function readJsonBody(req: NodeJS.ReadableStream): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HooksdError('HOOKSD_INVALID_REQUEST', `the body is not JSON: ${(error as Error).message}`);
  }
  if (nestedDeeperThan(body, MAX_JSON_DEPTH))
    throw new HooksdError('HOOKSD_INVALID_REQUEST', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return body;
}

/** A validator for a JSON body: reads it, applies defaults, and throws HOOKSD_INVALID_REQUEST listing each problem. */
export function compileBody<T>(schema: Record<string, unknown>): (req: NodeJS.ReadableStream) => Promise<T> {
  const validate = bodyAjv.compile(schema);
  return async (req) => check<T>(validate, await readJsonBody(req), 'body');
}

/** The body of a POST that takes no options: nothing, `{}`, or an error naming the unknown field. */
export const emptyBodySchema = { type: 'object', additionalProperties: false, properties: {} } as const;
