import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../config/loader.js';
import { errorSchema } from '../api/answer-schemas.js';
import { ERROR_STATUS_TEXT } from '../api/openapi.js';
import { errorStatuses, type RouteSpec } from '../api/route-table.js';
import { buildApp } from './app.js';
import { cell, schemaType, showValue, type DocSchema } from './schema-words.js';

/** The API's routes as the app registers them: an app is built on a throwaway folder, never started. */
export function apiRoutes(): readonly RouteSpec[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hooksd-routes-'));
  try {
    const file = path.join(dir, 'hooks.config.yaml');
    writeFileSync(file, '');
    return buildApp(loadConfig(file, {}), { configFile: file, log: pino({ level: 'silent' }) }).routes.specs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'invalid query, body or cursor',
  401: 'no valid token',
  403: 'the token lacks the scope',
  404: 'no such record',
  409: 'conflicts with the record',
  413: 'body too large',
  422: 'the event does not fit the catalog',
  503: 'unavailable: not ready, NATS unreachable, or the owner of the record not live',
};

function fieldRows(
  properties: Readonly<Record<string, DocSchema>>,
  required: readonly string[],
  what: string,
  answer = false,
): string[] {
  const rows = [`| ${what} | type | | description |`, '|---|---|---|---|'];
  for (const [name, schema] of Object.entries(properties)) {
    // In a request the required fields stand out; in an answer, those that may be absent.
    const note = answer
      ? required.includes(name)
        ? ''
        : 'may be absent'
      : required.includes(name)
        ? 'required'
        : schema.default === undefined
          ? ''
          : `default \`${cell(showValue(schema.default))}\``;
    rows.push(`| \`${name}\` | ${schemaType(schema)} | ${note} | ${cell(schema.description ?? '')} |`);
  }
  return rows;
}

function routeSection(spec: RouteSpec): string[] {
  const lines = [
    '',
    `### \`${spec.method.toUpperCase()} ${spec.path}\``,
    '',
    `${spec.summary}.`.replace(/\.\.$/, '.'),
    '',
  ];
  const statuses = [spec.status, ...Object.keys(spec.otherAnswers ?? {}).map(Number), ...errorStatuses(spec)];
  const answers = statuses.map((status) => `${status} (${STATUS_TEXT[status] ?? ''})`).join(', ');
  lines.push(`${spec.scope ? `Scope \`${spec.scope}\`` : 'No token needed'}. Answers ${answers}.`);
  const response = spec.response as DocSchema | null;
  if (response !== null) lines.push('', `Success: ${answerWords(response)}.`);
  const query = Object.entries(spec.query ?? {}) as [string, DocSchema][];
  if (query.length > 0) lines.push('', ...fieldRows(Object.fromEntries(query), [], 'query'));
  const body = spec.body as DocSchema | undefined;
  if (body?.properties && Object.keys(body.properties).length > 0) {
    lines.push('', ...fieldRows(body.properties, body.required ?? [], 'body field'));
  }
  return lines;
}

/** What a success answer holds, in words: a record, a page of records, or what the schema says. */
function answerWords(schema: DocSchema): string {
  const item = schema.properties?.data?.items;
  if (item?.title !== undefined)
    return schema.properties?.nextCursor === undefined
      ? `\`{data}\`, a list of ${schemaType(item)}`
      : `a page of ${schemaType(item)}`;
  if (schema.title !== undefined) return schemaType(schema);
  return (schema.description ?? schemaType(schema)).replace(/\.$/, '');
}

/** Every titled schema in the answers, nested ones included, each once, in the order met. */
function answerShapes(schema: unknown, found: Map<string, DocSchema>): void {
  if (Array.isArray(schema)) return schema.forEach((item) => answerShapes(item, found));
  if (schema === null || typeof schema !== 'object') return;
  const { title } = schema as DocSchema;
  // Pages are described once, in the words above the tables.
  if (title !== undefined && !title.endsWith('Page') && !found.has(title)) found.set(title, schema as DocSchema);
  Object.values(schema).forEach((value) => answerShapes(value, found));
}

function shapeSection(shape: DocSchema): string[] {
  return [
    '',
    `### ${shape.title}`,
    '',
    shape.description ?? '',
    '',
    ...fieldRows(shape.properties ?? {}, shape.required ?? [], 'field', true),
  ];
}

/** docs/api.md, from the route table the router serves and /openapi.json describes. */
export function renderApiDocs(specs: readonly RouteSpec[]): string {
  const lines = [
    '# HTTP API',
    '',
    '<!-- Generated from the route table by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'JSON over HTTP; `GET /openapi.json` describes the same routes as OpenAPI 3.1. With tokens in',
    '`server.auth.tokens`, a route that names a scope needs `Authorization: Bearer <token>` with that',
    'scope; with none, the API listens on loopback only and every route is open. Errors are',
    '`{"code", "message", "details"}` with the status below (`docs/errors.md` lists the codes).',
    'Lists take `limit` and an opaque `cursor` and answer `{"data": [...], "nextCursor": "..." | null}`;',
    'durations are strings like `"5s"`; every time in an answer is ISO 8601 in UTC with milliseconds',
    '(`2026-01-02T03:04:05.678Z`). Each record an answer holds is described under "Records" below.',
    'In a group of instances any one answers for all ([scaling.md](scaling.md#one-api-across-the-group)):',
    'the lists of messages, events and dead letters merge a page from every live instance (a page',
    'lacking an instance that did not answer in time names it in `missingInstances`), and a lookup or',
    'action by id runs on the instance that holds the record (503 when its owner is not live).',
  ];
  const tags = [...new Set(specs.map((spec) => spec.tag))];
  for (const tag of tags) {
    lines.push('', `## ${tag}`);
    for (const spec of specs.filter((s) => s.tag === tag)) lines.push(...routeSection(spec));
  }
  const shapes = new Map<string, DocSchema>();
  answerShapes([...specs.map((spec) => [spec.response, spec.otherAnswers]), errorSchema], shapes);
  lines.push('', '## Records');
  for (const shape of shapes.values()) lines.push(...shapeSection(shape));
  lines.push('', '## Error statuses', '', '| status | when |', '|---|---|');
  for (const [status, text] of Object.entries(ERROR_STATUS_TEXT)) lines.push(`| ${status} | ${cell(text)} |`);
  return lines.join('\n') + '\n';
}
