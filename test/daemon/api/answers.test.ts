import t from 'tap';
import { eventually, json, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { AnswerChecker, ISO_MS, TIME_FIELD, timesOutOfFormat } from '../../helpers/openapi-answers.js';
import { startReceiver } from '../../helpers/receiver.js';

const TOKENS = {
  read: 'answers-read-0123456789',
  admin: 'answers-admin-0123456789',
  publish: 'answers-pub-0123456789',
};
const ALL = 'answers-all-0123456789';
const tokens = [
  ...Object.entries(TOKENS).map(([scope, token]) => ({ name: scope, token, scopes: [scope] })),
  { name: 'all', token: ALL, scopes: ['read', 'admin', 'publish'] },
];
const ORDER = { name: 'order.placed', schema: { type: 'object', required: ['total'] }, example: { total: 1 } };

/** A call of the walk: `route` is the /openapi.json path it is made on, `status` the answer expected. */
interface Call {
  method: 'get' | 'post' | 'patch' | 'delete';
  route: string;
  ids?: string[];
  query?: string;
  body?: unknown;
  status: number;
  /** The scope of token to send; none sends no token. */
  as?: keyof typeof TOKENS | 'none';
}

t.test(
  'answers - every answer of every route, success and errors, matches its schema in /openapi.json, and every ' +
    'time in them is ISO 8601 with milliseconds',
  async (t) => {
    const ok = await startReceiver(t);
    const failing = await startReceiver(t, () => ({ status: 500 }));
    const hooksd = await startInProcess(t, {
      server: { auth: { tokens } },
      eventTypes: [ORDER],
      consumers: [
        { id: 'sink', url: ok.url, eventTypes: ['order.*', 'late.*'] },
        { id: 'flaky', url: failing.url, eventTypes: ['order.*'], retrySchedule: ['0s', '1h'] },
      ],
    });
    const { body: document } = await hooksd.api('/openapi.json');
    const checker = new AnswerChecker(document);
    const admin = { authorization: `Bearer ${ALL}` };

    // Records of every kind: an event delivered to one consumer and waiting for a retry at the other,
    // a task, an API consumer, and two dead letters (one redriven once the catalog takes its type).
    const published = await hooksd.api(
      '/v1/events',
      json('POST', { eventType: 'order.placed', payload: { total: 3 } }, { authorization: `Bearer ${TOKENS.publish}` }),
    );
    const event = await eventually(async () => {
      const { body } = await hooksd.api(`/v1/events/${published.body.id}`, { headers: admin });
      const statuses = body?.messages?.map((m: { status: string }) => m.status).sort();
      return JSON.stringify(statuses) === '["attempting","success"]' ? body : undefined;
    }, 30_000);
    const delivered = event.messages.find((m: { status: string }) => m.status === 'success');
    const waiting = event.messages.find((m: { status: string }) => m.status === 'attempting');
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.late.type', JSON.stringify({ id: 'late-1', payload: {} }));
    await js.publish('events.late.type', JSON.stringify({ id: 'late-2', payload: {} }));
    const [stays, goes] = await eventually(async () => {
      const { data } = (await hooksd.api('/v1/dead-letters', { headers: admin })).body;
      return data.length === 2 ? data : undefined;
    });

    const calls: Call[] = [
      { method: 'get', route: '/healthz', status: 200, as: 'none' },
      { method: 'get', route: '/readyz', status: 200, as: 'none' },
      { method: 'get', route: '/openapi.json', status: 200, as: 'none' },
      { method: 'get', route: '/metrics', status: 200, as: 'read' },
      { method: 'get', route: '/v1/whoami', status: 200, as: 'read' },
      { method: 'get', route: '/v1/instances', status: 200, as: 'read' },
      { method: 'get', route: '/v1/event-types', status: 200, as: 'read' },
      { method: 'get', route: '/v1/events', status: 200, as: 'read' },
      { method: 'get', route: '/v1/events', query: '?limit=0', status: 400, as: 'read' },
      { method: 'get', route: '/v1/events/{id}', ids: [event.id], status: 200, as: 'read' },
      { method: 'get', route: '/v1/events/{id}', ids: ['nope'], status: 404, as: 'read' },
      { method: 'post', route: '/v1/events', body: { eventType: 'order.placed', payload: { total: 4 } }, status: 202 },
      { method: 'post', route: '/v1/events', body: { eventType: 'order.placed', payload: {} }, status: 422 },
      { method: 'post', route: '/v1/events', body: 'x'.repeat(1_100_000), status: 413 },
      { method: 'post', route: '/v1/events/{id}/replay', ids: [event.id], body: {}, status: 202 },
      { method: 'get', route: '/v1/dead-letters', status: 200, as: 'read' },
      { method: 'post', route: '/v1/dead-letters/{id}/redrive', ids: [stays.id], body: {}, status: 422 },
      { method: 'get', route: '/v1/messages', status: 200, as: 'read' },
      { method: 'get', route: '/v1/messages/{id}', ids: [waiting.id], status: 200, as: 'read' },
      { method: 'get', route: '/v1/messages/{id}/attempts', ids: [delivered.id], status: 200, as: 'read' },
      { method: 'post', route: '/v1/messages/{id}/resend', ids: [delivered.id], body: {}, status: 202 },
      { method: 'post', route: '/v1/messages/{id}/cancel', ids: [waiting.id], body: { reason: 'x' }, status: 200 },
      { method: 'post', route: '/v1/messages/{id}/cancel', ids: [waiting.id], body: {}, status: 409 },
      { method: 'get', route: '/v1/consumers', status: 200, as: 'read' },
      { method: 'post', route: '/v1/consumers', body: { url: ok.url, eventTypes: ['order.placed'] }, status: 201 },
      { method: 'post', route: '/v1/consumers', body: { id: 'sink', url: ok.url }, status: 409 },
      { method: 'post', route: '/v1/consumers', body: { url: 'http://10.0.0.1/' }, status: 400 },
      { method: 'post', route: '/v1/consumers', body: { id: 'made', url: ok.url }, status: 201 },
      { method: 'get', route: '/v1/consumers/{id}', ids: ['made'], status: 200, as: 'read' },
      { method: 'patch', route: '/v1/consumers/{id}', ids: ['made'], body: { description: 'd' }, status: 200 },
      { method: 'patch', route: '/v1/consumers/{id}', ids: ['sink'], body: { description: 'd' }, status: 409 },
      { method: 'post', route: '/v1/consumers/{id}/disable', ids: ['made'], body: {}, status: 200 },
      { method: 'post', route: '/v1/consumers/{id}/test', ids: ['made'], body: { eventType: ORDER.name }, status: 409 },
      { method: 'post', route: '/v1/consumers/{id}/enable', ids: ['made'], body: {}, status: 200 },
      { method: 'post', route: '/v1/consumers/{id}/test', ids: ['made'], body: { eventType: ORDER.name }, status: 202 },
      { method: 'post', route: '/v1/consumers/{id}/secret/rotate', ids: ['made'], body: {}, status: 200 },
      {
        method: 'post',
        route: '/v1/consumers/{id}/recover',
        ids: ['sink'],
        body: { since: event.receivedAt },
        status: 202,
      },
      {
        method: 'post',
        route: '/v1/consumers/{id}/replay-missing',
        ids: ['made'],
        body: { since: event.receivedAt },
        status: 202,
      },
      { method: 'delete', route: '/v1/consumers/{id}', ids: ['made'], status: 204 },
      { method: 'delete', route: '/v1/consumers/{id}', ids: ['made'], status: 404 },
      { method: 'get', route: '/v1/tasks/{id}', ids: ['nope'], status: 404, as: 'read' },
      { method: 'get', route: '/v1/ops-events', query: '?limit=5', status: 200, as: 'read' },
      {
        method: 'get',
        route: '/v1/consumers/{id}/stats',
        ids: ['flaky'],
        query: '?window=15m',
        status: 200,
        as: 'read',
      },
      { method: 'get', route: '/v1/consumers/{id}/stats', ids: ['sink'], query: '?step=5m', status: 200, as: 'read' },
      { method: 'get', route: '/v1/consumers/{id}/stats', ids: ['nope'], status: 404, as: 'read' },
      { method: 'get', route: '/v1/consumers/{id}/stats', ids: ['sink'], query: '?window=1d', status: 400, as: 'read' },
      { method: 'get', route: '/v1/stats', query: '?window=6h', status: 200, as: 'read' },
      { method: 'get', route: '/v1/ops-events', query: '?limit=0', status: 400, as: 'read' },
      { method: 'get', route: '/v1/consumers', status: 401, as: 'none' },
      { method: 'get', route: '/v1/consumers', status: 403, as: 'publish' },
    ];
    const answered = new Map<string, Set<number>>();
    const run = async (call: Call) => {
      const as = call.as ?? (call.route === '/v1/events' && call.method === 'post' ? 'publish' : 'admin');
      let path = call.route;
      for (const id of call.ids ?? []) path = path.replace(/\{\w+\}/, encodeURIComponent(id));
      const body = typeof call.body === 'string' ? call.body : call.body === undefined ? undefined : call.body;
      const headers = as === 'none' ? {} : { authorization: `Bearer ${TOKENS[as]}` };
      const res = await fetch(hooksd.url + path + (call.query ?? ''), {
        ...json(call.method.toUpperCase(), body, headers),
      });
      const text = await res.text();
      const what = `${call.method.toUpperCase()} ${path}${call.query ?? ''} → ${res.status}`;
      t.equal(res.status, call.status, what);
      const parsed = /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text || undefined;
      t.equal(checker.problems(call.method, call.route, res.status, parsed), null, `${what}: as its schema says`);
      // The API's description is not a record: its `createdAt` fields are schemas.
      if (call.route !== '/openapi.json') t.same(timesOutOfFormat(parsed), [], `${what}: times in the one format`);
      const key = `${call.method} ${call.route}`;
      answered.set(key, (answered.get(key) ?? new Set()).add(res.status));
      return parsed;
    };
    for (const call of calls) await run(call);

    // Answers made from what the calls made: the task, the redriven dead letter, its 409.
    const task = (await hooksd.api('/v1/consumers/sink/recover', json('POST', { since: event.receivedAt }, admin)))
      .body;
    await run({ method: 'get', route: '/v1/tasks/{id}', ids: [task.id], status: 200, as: 'read' });
    await hooksd.reconfigure((config) => ({ ...config, eventTypes: [ORDER, { name: 'late.type' }] }));
    const redriven = await run({
      method: 'post',
      route: '/v1/dead-letters/{id}/redrive',
      ids: [goes.id],
      body: {},
      status: 202,
    });
    t.match(redriven.deadLetter.redrivenAt, ISO_MS);
    await run({ method: 'post', route: '/v1/dead-letters/{id}/redrive', ids: [goes.id], body: {}, status: 409 });
    const attempts = await run({
      method: 'get',
      route: '/v1/messages/{id}/attempts',
      ids: [waiting.id],
      status: 200,
      as: 'read',
    });
    t.match(attempts.data[0], { startedAt: ISO_MS, response: { statusCode: 500 } }, 'a failed attempt with its answer');

    // The live feed never ends: its answer is read up to the first attempt, then the request is dropped.
    const stop = new AbortController();
    const live = await fetch(`${hooksd.url}/v1/attempts/live?outcome=failure`, {
      headers: { authorization: `Bearer ${TOKENS.read}` },
      signal: stop.signal,
    });
    t.equal(live.status, 200, 'GET /v1/attempts/live → 200');
    t.match(live.headers.get('content-type'), /^text\/event-stream/, 'as a stream of server-sent events');
    await hooksd.api(`/v1/messages/${delivered.id}/resend`, json('POST', {}, admin));
    await hooksd.api(`/v1/messages/${waiting.id}/resend`, json('POST', {}, admin));
    const reader = live.body!.getReader();
    let seen = '';
    const dataLine = () => /^data: (.*)\n/m.exec(seen)?.[1];
    while (dataLine() === undefined) seen += new TextDecoder().decode((await reader.read()).value);
    stop.abort();
    const first = JSON.parse(dataLine()!);
    t.match(first, { consumerId: 'flaky', outcome: 'failure', at: ISO_MS }, 'a failed attempt, with an ISO time');
    answered.set('get /v1/attempts/live', new Set([live.status]));

    const operations = Object.entries(document.paths).flatMap(([route, methods]: [string, any]) =>
      Object.keys(methods).map((method) => ({
        key: `${method} ${route}`,
        success: Object.keys(methods[method].responses)[0],
      })),
    );
    t.same(
      operations.filter(({ key, success }) => !answered.get(key)?.has(Number(success))).map(({ key }) => key),
      [],
      'every operation answered with its success status in the walk',
    );
  },
);

t.test(
  'answers - every time field /openapi.json describes is a date-time, and the checker does catch a wrong answer',
  async (t) => {
    const hooksd = await startInProcess(t, {});
    const { body: document } = await hooksd.api('/openapi.json');
    const wrong: string[] = [];
    for (const [name, schema] of Object.entries(document.components.schemas) as [string, any][]) {
      for (const [field, property] of Object.entries(schema.properties ?? {}) as [string, any][]) {
        if (TIME_FIELD.test(field) && property.format !== 'date-time') wrong.push(`${name}.${field}`);
      }
    }
    t.same(wrong, [], 'no time field described otherwise');
    t.ok(document.components.schemas.Message.properties.createdAt, 'the walk above saw the Message schema');

    const checker = new AnswerChecker(document);
    const message = {
      id: 'msg_1',
      eventId: 'e',
      consumerId: 'c',
      eventType: 't',
      status: 'success',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      attempts: 1,
      nextAttemptAt: null,
    };
    t.equal(checker.problems('get', '/v1/messages/{id}', 200, message), null, 'a right answer passes');
    t.match(checker.problems('get', '/v1/messages/{id}', 200, { ...message, createdAt: 1767225600000 }), /createdAt/);
    t.match(checker.problems('get', '/v1/messages/{id}', 200, { ...message, extra: 1 }), /additional/);
    t.match(checker.problems('get', '/v1/messages/{id}', 418, message), /does not say it answers 418/);
    t.match(checker.problems('get', '/v1/messages/{id}', 404, { code: 'X' }), /message/, 'errors are checked too');
    t.same(timesOutOfFormat({ a: { createdAt: 5, since: '2026-01-01T00:00:00Z' } }), [
      'answer.a.createdAt: 5',
      'answer.a.since: "2026-01-01T00:00:00Z"',
    ]);
  },
);
