import http from 'node:http';
import fc from 'fast-check';
import { hostileValue, jsonText, objectText, PROTOTYPE_KEYS, veryDeepText } from './hostile-json.js';

/** One API request for the fuzzer, sent as it is: the path and query are not encoded again. */
export interface FuzzRequest {
  /** The /openapi.json path it was made for (not sent), or `other` for a path of no route. */
  route: string;
  method: string;
  /** Path and query string, as they go on the request line. */
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** What the fuzzer knows of the API: /openapi.json, and values that exist in the running gateway. */
export interface ApiKnowledge {
  openapi: { paths: Record<string, Record<string, any>> };
  /** Ids of records that exist, by the path before them: `/v1/consumers/`, `/v1/events/`, ... */
  ids: Record<string, string[]>;
  /** Values worth trying, right and wrong ones, by the name of a body field or query parameter; `any` for others. */
  fields: Record<string, unknown[]>;
  tokens: { all: string; readOnly: string };
}

const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'M-SEARCH'];

/** The request line takes bytes 0x21 to 0xff as they are; anything else is percent-encoded as UTF-8. */
const onRequestLine = (text: string) =>
  [...text].map((c) => (/[!-\u00ff]/.test(c) ? c : encodeURIComponent(c).replace(/!/g, '%21'))).join('');

/** A path segment: as encodeURIComponent writes it, or raw with `..`, `%00`, broken escapes, latin-1 bytes. */
const segment = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 20 }).map(onRequestLine),
  fc.constantFrom(
    '',
    '.',
    '..',
    '%2e%2e',
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    'a%00b',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
    '%ED%A0%80',
    '%F0%9F%98%80',
    'é',
    '%2F',
    '__proto__',
    'constructor',
    'prototype',
  ),
  // Long ids: 10 KB, and past the 16 KB of request line and headers Node's HTTP server accepts.
  fc.constantFrom(300, 10_000, 20_000).map((n) => 'i'.repeat(n)),
);

/** A value for the field `name`: mostly one of those known for it, else any value at all. */
function fieldValue(known: ApiKnowledge, name: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    // Own fields only: `constructor` is a name the generator uses too.
    {
      arbitrary: fc.constantFrom(...(Object.hasOwn(known.fields, name) ? known.fields[name] : known.fields.any)),
      weight: 8,
    },
    { arbitrary: fc.constantFrom(...known.fields.any), weight: 1 },
    { arbitrary: hostileValue, weight: 1 },
  );
}

const strayKey = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS, '__proto__[polluted]', 'constructor[prototype][polluted]', 'a[]'),
  fc.string({ maxLength: 10 }),
);

/** The route's own names mostly, and others: prototype keys, bracket syntax, anything. */
const fieldName = (names: string[]) =>
  names.length === 0 ? strayKey : fc.oneof({ arbitrary: fc.constantFrom(...names), weight: 10 }, strayKey);

/** `?k=v&...`: the route's parameters and others, repeated, with values of the wrong type, encoded or raw. */
function queryString(known: ApiKnowledge, names: string[]) {
  const pair = fieldName(names).chain((name) =>
    fc.tuple(
      fc.constant(name),
      fieldValue(known, name).map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))),
      fc.boolean(),
    ),
  );
  // A route without parameters answers 400 to any: mostly none, so that the requests reach it.
  const pairs =
    names.length === 0
      ? fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, fc.array(pair, { minLength: 1, maxLength: 3 }))
      : fc.array(pair, { maxLength: 4 });
  return pairs.map((pairs) =>
    pairs.length === 0
      ? ''
      : '?' +
        pairs
          .map(([key, value, raw]) =>
            raw
              ? `${onRequestLine(key)}=${onRequestLine(value)}`
              : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
          )
          .join('&'),
  );
}

/** Bodies of every JSON shape, shaped like the route's schema or not, and bodies that are no JSON at all. */
function body(known: ApiKnowledge, properties: string[], required: string[]) {
  // As text, so that prototype keys stay plain fields and a field may come twice.
  const valueOf = (name: string) =>
    fieldValue(known, name).map((value): [string, string] => [name, JSON.stringify(value) ?? 'null']);
  const field = fieldName(properties).chain(valueOf);
  // The required fields (so that some bodies pass validation and reach the route), then any others.
  const shaped = fc
    .tuple(fc.tuple(...required.map(valueOf)), fc.array(field, { maxLength: 3 }))
    .map(([must, more]) => objectText([...must, ...more]));
  const json = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((v) => JSON.stringify(v) ?? 'null');
  const bytes = (arbitrary: fc.Arbitrary<string>) => arbitrary.map((text) => Buffer.from(text));
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 20 },
    { arbitrary: bytes(shaped), weight: 50 },
    { arbitrary: bytes(json(hostileValue)), weight: 5 },
    { arbitrary: bytes(jsonText), weight: 10 },
    { arbitrary: bytes(veryDeepText.map((text) => `{"eventType":"fuzz.good","payload":${text}}`)), weight: 3 },
    { arbitrary: bytes(fc.constantFrom('', ' ', 'not json', '{', '{"a":', 'a=1&b=2', '\u0000')), weight: 7 },
    { arbitrary: fc.uint8Array({ maxLength: 200 }).map((data) => Buffer.from(data)), weight: 4 },
    // Over the 1 MB the API reads: rare, as each is a megabyte or two to send.
    {
      arbitrary: fc.constantFrom(Buffer.alloc(1024 * 1024 + 1, 'x'), Buffer.from(`[${'1,'.repeat(600_000)}1]`)),
      weight: 1,
    },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'garbage',
  ';;;',
];

function headers(known: ApiKnowledge) {
  const { all, readOnly } = known.tokens;
  const optional = fc.record(
    {
      'content-type': fc.constantFrom(...CONTENT_TYPES),
      'idempotency-key': fc.oneof(
        fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }).map((s) => s.replace(/[^!-~]/g, 'k')),
        fc.constant('k'.repeat(300)),
      ),
      'content-encoding': fc.constantFrom('gzip', 'identity'),
      expect: fc.constantFrom('100-continue', 'nonsense'),
    },
    { requiredKeys: [] },
  );
  // Mostly the token that may do everything, so that requests get past the scope checks to the routes.
  const authorization = fc.oneof(
    { arbitrary: fc.constant(`Bearer ${all}`), weight: 24 },
    {
      arbitrary: fc.constantFrom(`Bearer ${readOnly}`, `bearer ${all}`, 'Bearer wrong', 'Bearer ', 'Basic eDp4', all),
      weight: 2,
    },
    { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[^ -~]/g, '')), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
  return fc
    .tuple(authorization, optional)
    .map(([value, others]): Record<string, string> =>
      value === undefined ? others : { authorization: value, ...others },
    );
}

/** Requests over every route of /openapi.json, with other methods and paths besides. */
export function requests(known: ApiKnowledge): fc.Arbitrary<FuzzRequest> {
  const routes = Object.entries(known.openapi.paths).map(([template, operations]) => {
    const operationList = Object.values(operations);
    const queryNames = operationList.flatMap((op: any) =>
      (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name as string),
    );
    const bodies = operationList.map((op: any) => op.requestBody?.content?.['application/json']?.schema ?? {});
    const bodyNames = bodies.flatMap((schema) => Object.keys(schema.properties ?? {}));
    const required = bodies.flatMap((schema) => (schema.required ?? []) as string[]);
    const methods = Object.keys(operations).map((m) => m.toUpperCase());
    return { template, methods, queryNames, bodyNames, required };
  });
  const allIds = Object.values(known.ids).flat();
  /** An id of the route's kind of record mostly, else one of another kind, or any segment at all. */
  const id = (template: string) =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...(known.ids[template.slice(0, template.indexOf('{'))] ?? allIds)), weight: 5 },
      { arbitrary: fc.constantFrom(...allIds), weight: 1 },
      { arbitrary: segment, weight: 4 },
    );
  const route = fc.constantFrom(...routes).chain(({ template, methods, queryNames, bodyNames, required }) =>
    fc.record({
      route: fc.constant(template),
      method: fc.oneof({ arbitrary: fc.constantFrom(...methods), weight: 4 }, fc.constantFrom(...METHODS)),
      path: id(template).map((value) => template.replace(/\{[^}]+\}/g, value)),
      query: queryString(known, [...new Set(queryNames)]),
      body: body(known, [...new Set(bodyNames)], [...new Set(required)]),
      headers: headers(known),
    }),
  );
  const stray = fc.record({
    route: fc.constant('other'),
    method: fc.constantFrom(...METHODS),
    path: fc.oneof(
      fc.constantFrom('/', '/v1', '/v1/', '/v1/nope', '//v1//consumers', '/V1/CONSUMERS', '/v1/consumers/a/b/c/d'),
      fc.array(segment, { maxLength: 4 }).map((segments) => '/' + segments.join('/')),
    ),
    query: queryString(known, []),
    body: body(known, [], []),
    headers: headers(known),
  });
  return fc
    .oneof({ arbitrary: route, weight: 9 }, { arbitrary: stray, weight: 1 })
    .map(({ route, method, path, query, body, headers }) =>
      describe({ route, method, target: path + query, headers, body }),
    );
}

/** fast-check prints a failing request this way: short, with the body cut. */
function describe(request: FuzzRequest): FuzzRequest {
  const cut = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text);
  Object.defineProperty(request, fc.toStringMethod, {
    value: () =>
      JSON.stringify({
        method: request.method,
        target: cut(request.target),
        headers: request.headers,
        body: request.body === undefined ? undefined : cut(request.body.toString('latin1')),
      }),
  });
  return request;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends a request exactly as generated (node:http does not rewrite the path), over a kept-alive connection.
 * An answer that is a stream of server-sent events is taken at its headers, and its connection closed.
 */
export function send(url: string, request: FuzzRequest, agent: http.Agent): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const length = request.body === undefined ? {} : { 'content-length': String(request.body.length) };
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: hostname,
        port,
        method: request.method,
        path: request.target,
        headers: { ...request.headers, ...length },
        agent,
        timeout: 30_000,
      },
      (res) => {
        // A live stream (GET /v1/attempts/live) never ends by design: its status and headers are the answer.
        if (/^text\/event-stream/.test(res.headers['content-type'] ?? '')) {
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.alloc(0) });
          outgoing.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer within 30 s')));
    outgoing.end(request.body);
  });
}
