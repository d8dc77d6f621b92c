import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../config/loader.js';
import type { RouteSpec } from '../api/route-table.js';
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
  503: 'not ready',
};

function fieldRows(
  properties: Readonly<Record<string, DocSchema>>,
  required: readonly string[],
  what: string,
): string[] {
  const rows = [`| ${what} | type | | description |`, '|---|---|---|---|'];
  for (const [name, schema] of Object.entries(properties)) {
    const note = required.includes(name)
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
  const errors = [...(spec.query || spec.body ? [400] : []), ...(spec.scope ? [401, 403] : []), ...(spec.errors ?? [])];
  const answers = [spec.status, ...errors].map((status) => `${status} (${STATUS_TEXT[status] ?? ''})`).join(', ');
  lines.push(`${spec.scope ? `Scope \`${spec.scope}\`` : 'No token needed'}. Answers ${answers}.`);
  const query = Object.entries(spec.query ?? {}) as [string, DocSchema][];
  if (query.length > 0) lines.push('', ...fieldRows(Object.fromEntries(query), [], 'query'));
  const body = spec.body as DocSchema | undefined;
  if (body?.properties && Object.keys(body.properties).length > 0) {
    lines.push('', ...fieldRows(body.properties, body.required ?? [], 'body field'));
  }
  return lines;
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
    'durations are strings like `"5s"`, times ISO 8601.',
  ];
  const tags = [...new Set(specs.map((spec) => spec.tag))];
  for (const tag of tags) {
    lines.push('', `## ${tag}`);
    for (const spec of specs.filter((s) => s.tag === tag)) lines.push(...routeSection(spec));
  }
  return lines.join('\n') + '\n';
}
