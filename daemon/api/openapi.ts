import { HooksdError } from '../common/errors.js';
import { errorSchema } from './answer-schemas.js';
import { errorStatuses, type RouteSpec } from './route-table.js';

export const ERROR_STATUS_TEXT: Record<number, string> = {
  400: 'The query or body failed validation, the cursor is not valid, or delivery.network refuses the URL',
  401: 'No valid bearer token',
  403: 'The token lacks the scope',
  404: 'No record has this id',
  409:
    'The request conflicts with the record (config-file consumer, disabled consumer, message busy or not ' +
    'pending, id taken, dead letter redriven already)',
  413: 'The body is larger than 1 MB',
  422: 'The event does not fit the catalog: nothing was published or stored',
  503: 'Unavailable: not ready (NATS not connected, or draining), or the instance that owns the record is not live',
};
const UNEXPECTED = 'Any other error, same shape: 5xx (internal, the store cannot be written)';

/**
 * Moves every schema with a `title` into `components` and refers to it by name instead: a
 * client generator then makes one type per record (Message, Consumer, ...), wherever it appears.
 */
function hoist(schema: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => hoist(item, components));
  if (schema === null || typeof schema !== 'object') return schema;
  const inner = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, hoist(value, components)]));
  const title = (schema as { title?: unknown }).title;
  if (typeof title !== 'string') return inner;
  const { title: _title, ...named } = inner;
  if (title in components && JSON.stringify(components[title]) !== JSON.stringify(named))
    throw new HooksdError('HOOKSD_INTERNAL', `two different answer schemas are titled "${title}"`);
  components[title] = named;
  return { $ref: `#/components/schemas/${title}` };
}

/**
 * The request schemas as OpenAPI shows them: hooksd's own validation keywords become
 * standard JSON Schema (a duration is a string like "5s"; header rules are described).
 */
function publicSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(publicSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const { duration, notReservedHeader, ...rest } = schema as Record<string, unknown>;
  const shown: Record<string, unknown> = Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [key, publicSchema(value)]),
  );
  if (duration === true)
    Object.assign(shown, { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$', examples: ['250ms', '5s', '2h'] });
  if (notReservedHeader === true)
    shown.description = 'not a header hooksd sets itself (content-type, content-length, host, user-agent, webhook-*)';
  // An object of any keys (a filter) says so, or client generators take it for an object with none.
  if (shown.type === 'object' && !('properties' in shown) && !('additionalProperties' in shown))
    shown.additionalProperties = true;
  return shown;
}

/** `-missing` → `Missing`: dashes dropped, the letter after each one upper-cased. */
const camel = (text: string) => text.replace(/-(\w)/g, (_m, letter: string) => letter.toUpperCase());

function success(spec: RouteSpec, components: Record<string, unknown>) {
  if (spec.response === null) return { description: 'Done, no body' };
  const type = spec.text ? 'text/plain' : 'application/json';
  return { description: 'Success', content: { [type]: { schema: hoist(spec.response, components) } } };
}

function operation(spec: RouteSpec, components: Record<string, unknown>) {
  const pathParams = [...spec.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const queryParams = Object.entries(spec.query ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema: publicSchema(schema),
  }));
  const others = Object.entries(spec.otherAnswers ?? {}).map(([status, { description, schema }]) => [
    status,
    { description, content: { 'application/json': { schema: hoist(schema, components) } } },
  ]);
  return {
    operationId:
      spec.method +
      spec.path.replace(/\/:?(\w)([\w-]*)/g, (_m, first: string, rest: string) => first.toUpperCase() + camel(rest)),
    summary: spec.summary,
    tags: [spec.tag],
    ...(spec.scope
      ? {
          security: [{ bearer: [] }],
          'x-hooksd-scope': spec.scope,
          description: `Needs a token with the \`${spec.scope}\` scope.`,
        }
      : { security: [] }),
    ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
    ...(spec.body
      ? { requestBody: { required: false, content: { 'application/json': { schema: publicSchema(spec.body) } } } }
      : {}),
    responses: {
      [String(spec.status)]: success(spec, components),
      ...Object.fromEntries(others),
      ...Object.fromEntries(
        errorStatuses(spec).map((status) => [String(status), { $ref: `#/components/responses/E${status}` }]),
      ),
      default: { $ref: '#/components/responses/Unexpected' },
    },
  };
}

/** The API described as OpenAPI 3.1, from the same route table the router serves. */
export function openApiDocument(specs: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = {};
  const error = hoist(errorSchema, schemas);
  for (const spec of specs) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method]: operation(spec, schemas) };
  }
  const errorAnswer = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'hooksd',
      version,
      description:
        'Management API of hooksd, the self-hosted webhook gateway. Lists take `limit` (max 250) and an opaque ' +
        '`cursor`, and answer `{data, nextCursor}`. Times are ISO 8601 in UTC with milliseconds.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from server.auth.tokens; each route names the scope it needs (read, admin or publish).',
        },
      },
      schemas,
      responses: {
        ...Object.fromEntries(
          Object.entries(ERROR_STATUS_TEXT).map(([status, description]) => [`E${status}`, errorAnswer(description)]),
        ),
        Unexpected: errorAnswer(UNEXPECTED),
      },
    },
  };
}
