import type { RouteSpec } from './route-table.js';

const ERROR_STATUS_TEXT: Record<number, string> = {
  400: 'The query or body failed validation, or the cursor is not valid',
  401: 'No valid bearer token',
  403: 'The token lacks the scope',
  404: 'No record has this id',
  409: 'The request conflicts with the record (config-file consumer, disabled consumer, message busy, id taken)',
  503: 'Not ready (NATS not connected, or draining)',
};

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
  return shown;
}

/** `-missing` → `Missing`: dashes dropped, the letter after each one upper-cased. */
const camel = (text: string) => text.replace(/-(\w)/g, (_m, letter: string) => letter.toUpperCase());

function operation(spec: RouteSpec) {
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
  const errors = [...(spec.query || spec.body ? [400] : []), ...(spec.scope ? [401, 403] : []), ...(spec.errors ?? [])];
  const content = spec.text ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: {} } };
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
      [String(spec.status)]: spec.status === 204 ? { description: 'Done' } : { description: 'Success', content },
      ...Object.fromEntries(errors.map((status) => [String(status), { $ref: `#/components/responses/E${status}` }])),
    },
  };
}

/** The API described as OpenAPI 3.1, from the same route table the router serves. */
export function openApiDocument(specs: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [spec.method]: operation(spec) };
  }
  const errorSchema = {
    type: 'object',
    required: ['code', 'message', 'details'],
    properties: { code: { type: 'string', examples: ['HOOKSD_NOT_FOUND'] }, message: { type: 'string' }, details: {} },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'hooksd',
      version,
      description:
        'Management API of hooksd, the self-hosted webhook gateway. Lists take `limit` (max 250) and an opaque ' +
        '`cursor`, and answer `{data, nextCursor}`.',
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
      schemas: { Error: errorSchema },
      responses: Object.fromEntries(
        Object.entries(ERROR_STATUS_TEXT).map(([status, description]) => [
          `E${status}`,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  };
}
