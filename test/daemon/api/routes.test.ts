import t from 'tap';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startInProcess } from '../../helpers/in-process.js';
import { freePort } from '../../helpers/nats.js';

const TOKENS = { read: 'tok-read-0123456789', admin: 'tok-admin-0123456789', publish: 'tok-publish-0123456789' };
const tokens = Object.entries(TOKENS).map(([scope, token]) => ({ name: scope, token, scopes: [scope] }));

/** A body each route accepts, so that only the unknown id can make it fail. */
const VALID_BODIES: Record<string, unknown> = {
  'post /v1/consumers': { id: 'made-here', url: 'http://127.0.0.1:9/hook' },
  'post /v1/events': { eventType: 'company.created', payload: {} },
  'patch /v1/consumers/{id}': { description: 'changed' },
  'post /v1/consumers/{id}/secret/rotate': {},
  'post /v1/consumers/{id}/test': { eventType: 'company.created' },
  'post /v1/consumers/{id}/recover': { since: '2026-01-01T00:00:00Z' },
  'post /v1/consumers/{id}/replay-missing': { since: '2026-01-01T00:00:00Z' },
  'post /v1/events/{id}/replay': {},
  'post /v1/messages/{id}/resend': {},
  'post /v1/consumers/{id}/enable': {},
  'post /v1/consumers/{id}/disable': {},
  'post /v1/messages/{id}/cancel': { reason: 'not needed any more' },
  'post /v1/dead-letters/{id}/redrive': {},
};

interface Operation {
  method: string;
  path: string;
  scope?: string;
  hasBody: boolean;
}

function operations(document: any): Operation[] {
  return Object.entries(document.paths).flatMap(([route, methods]: [string, any]) =>
    Object.entries(methods).map(([method, op]: [string, any]) => ({
      method,
      path: route,
      scope: op['x-hooksd-scope'],
      hasBody: op.requestBody !== undefined,
    })),
  );
}

t.test('openapi - /openapi.json is valid OpenAPI 3.1 and names exactly the routes the router serves', async (t) => {
  const hooksd = await startInProcess(t, { server: { auth: { tokens } }, eventTypes: [{ name: 'company.created' }] });
  const { status, body: document } = await hooksd.api('/openapi.json');
  t.equal(status, 200, 'served without a token');

  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  t.same(result.errors, undefined, 'no validation errors');
  t.equal(result.valid, true);
  t.equal(validator.version, '3.1');
  const broken = await new Validator().validate({ ...document, paths: { '/x': { get: { responses: 'none' } } } });
  t.equal(broken.valid, false, 'the validator does refuse a broken document');

  // The router of the app that served the document: what Koa actually serves.
  const served = hooksd.app.routes.router.stack.flatMap((layer) =>
    layer.methods
      .filter((m) => m !== 'HEAD')
      .map((m) => `${m.toLowerCase()} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
  );
  const described = operations(document).map((op) => `${op.method} ${op.path}`);
  t.same([...new Set(served)].sort(), described.sort(), 'every served route is described, and nothing else');
  for (const route of [
    'get /metrics',
    'get /v1/event-types',
    'post /v1/consumers',
    'delete /v1/consumers/{id}',
    'get /v1/tasks/{id}',
    'post /v1/events/{id}/replay',
  ]) {
    t.ok(described.includes(route), `${route} is described`);
  }
  t.equal(path.basename(hooksd.configFile), 'hooks.config.yaml');
});

t.test(
  'auth - every route: 401 without a valid token, 403 with the wrong scope, 400 to a bad body, 404 to an unknown id',
  async (t) => {
    const hooksd = await startInProcess(t, {
      server: { auth: { tokens } },
      eventTypes: [{ name: 'company.created', example: { name: 'Acme' } }],
    });
    const document = (await hooksd.api('/openapi.json')).body;
    const ops = operations(document);
    t.ok(ops.length >= 25, `${ops.length} operations`);

    const call = (op: Operation, token: string | undefined, body?: unknown, id = 'no-such-id') =>
      hooksd.api(op.path.replace('{id}', id), {
        method: op.method.toUpperCase(),
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    for (const op of ops) {
      const name = `${op.method.toUpperCase()} ${op.path}`;
      if (op.scope === undefined) {
        t.ok(['/healthz', '/readyz', '/openapi.json'].includes(op.path), `${name} is open`);
        t.equal((await call(op, undefined)).status, 200, `${name}: 200 without a token`);
        continue;
      }
      const valid = VALID_BODIES[`${op.method} ${op.path}`];
      const missing = await call(op, undefined, valid);
      t.same([missing.status, missing.body.code], [401, 'HOOKSD_UNAUTHORIZED'], `${name}: no token`);
      const wrongToken = await call(op, 'tok-not-issued-0123456789', valid);
      t.same([wrongToken.status, wrongToken.body.code], [401, 'HOOKSD_UNAUTHORIZED'], `${name}: unknown token`);
      const otherScope = Object.keys(TOKENS).find((s) => s !== op.scope) as keyof typeof TOKENS;
      const forbidden = await call(op, TOKENS[otherScope], valid);
      t.same([forbidden.status, forbidden.body.code], [403, 'HOOKSD_FORBIDDEN'], `${name}: ${otherScope} token`);
      const token = TOKENS[op.scope as keyof typeof TOKENS];
      if (op.hasBody) {
        const bad = await call(op, token, { notAField: true });
        t.same([bad.status, bad.body.code], [400, 'HOOKSD_INVALID_REQUEST'], `${name}: bad body`);
        t.match(bad.body.message, /notAField/, `${name}: the message names the field`);
      }
      if (op.path.includes('{id}')) {
        const unknown = await call(op, token, valid);
        t.same([unknown.status, unknown.body.code], [404, 'HOOKSD_NOT_FOUND'], `${name}: unknown id`);
      }
    }
    const badQuery = await hooksd.api('/v1/messages?limit=251', {
      headers: { authorization: `Bearer ${TOKENS.read}` },
    });
    t.same([badQuery.status, badQuery.body.code], [400, 'HOOKSD_INVALID_REQUEST'], 'a limit over 250 is refused');
    const badCursor = await hooksd.api('/v1/events?cursor=%21%21%21', {
      headers: { authorization: `Bearer ${TOKENS.read}` },
    });
    t.same(
      [badCursor.status, badCursor.body.code],
      [400, 'HOOKSD_INVALID_CURSOR'],
      'a cursor the API did not issue is refused',
    );
    const noRoute = await hooksd.api('/v1/nothing-here', { headers: { authorization: `Bearer ${TOKENS.read}` } });
    t.same([noRoute.status, noRoute.body.code], [404, 'HOOKSD_ROUTE_NOT_FOUND']);
    t.ok(hooksd.logs().length > 0, 'the log is kept');
    t.notMatch(hooksd.output(), /tok-(read|admin|publish)-0123456789/, 'tokens never reach the log');
  },
);

t.test(
  'auth - with no tokens configured the API binds to loopback only, whatever server.listen says, and logs it',
  async (t) => {
    const port = await freePort();
    const hooksd = await startInProcess(t, { server: { listen: `0.0.0.0:${port}` }, eventTypes: [{ name: 'a.b' }] });
    t.equal(hooksd.url, `http://127.0.0.1:${port}`);
    t.ok(
      hooksd.logs().some((l) => /loopback only/.test(String(l.msg)) && l.requested === '0.0.0.0'),
      'the log says why',
    );
    t.equal((await hooksd.api('/v1/consumers')).status, 200, 'and loopback callers need no token');
  },
);
