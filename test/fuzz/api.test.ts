import { randomBytes } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { fuzzParameters, Tally } from '../helpers/fuzz.js';
import { requests, send, type Answer, type ApiKnowledge, type FuzzRequest } from '../helpers/fuzz-requests.js';
import { eventIdOf } from '../helpers/gateway.js';
import { prototypeChanges, prototypeSnapshot } from '../helpers/hostile-json.js';
import { eventually, json, natsClient } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';
import { startReceiver } from '../helpers/receiver.js';

const RUNS = 10_000;
const TOKEN = `fuzz-all-${randomBytes(12).toString('hex')}`;
const READ_TOKEN = `fuzz-read-${randomBytes(12).toString('hex')}`;

const DATES = ['2024-01-01T00:00:00Z', '2024-01-01T23:59:60Z', '2024-02-30T00:00:00Z', '2024-01-01t00:00:00z'];
const MORE_DATES = ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '+275760-09-13T00:00:00Z', '2024-01-01'];

/** Values to try per field (body field or query parameter), right and wrong: the generator mostly picks these. */
function fields(seeded: { receiver: string; cursor: string; eventId: string }): Record<string, unknown[]> {
  const dates = [...DATES, ...MORE_DATES, new Date().toISOString(), '2030-01-01T00:00:00Z', 0, 'yesterday'];
  return {
    since: dates,
    until: dates,
    generatedDate: dates,
    limit: [0, 1, 2, 250, 251, -1, 1.5, '1e3', 'NaN', '2'],
    cursor: [seeded.cursor, 'AAAA', '', 'x'.repeat(2_000), '%%%', '__proto__'],
    eventType: ['fuzz.good', 'fuzz.checked', 'fuzz.nope', 'a..b', '*', 'x'.repeat(300)],
    eventTypes: [['fuzz.good'], ['*'], ['fuzz.*'], [], ['a..b'], 'fuzz.good'],
    consumerId: ['sink', 'api-one', 'nope', '-bad'],
    consumerIds: [['sink'], ['sink', 'api-one'], ['nope'], [], ['sink', 'sink']],
    id: ['fuzz-new', 'sink', 'api-one', '-bad', 'x'.repeat(65), seeded.eventId, 'a\u0000b'],
    url: [seeded.receiver, 'http://127.0.0.1:1/', 'ftp://127.0.0.1/', 'http://', 'not a url', 'http://[::1]:1/'],
    status: ['sending', 'attempting', 'success', 'failure', 'cancelled', 'skipped', 'nope'],
    disabled: [true, false, 'true', 'yes'],
    source: ['yaml', 'api', 'x'],
    q: ['sink', '', 'x'.repeat(201)],
    filter: [
      ...[{ 'payload.kind': 'good' }, { 'payload.kind': { $regex: '(a+)+$' } }, { $and: [] }, { 'x.y': 1 }],
      ...[{ 'payload.__proto__.x': 1 }, { $or: [{ 'payload.a': { $in: [1, {}] } }] }, { 'payload.a': { $gt: {} } }],
    ],
    secret: [`whsec_${randomBytes(24).toString('base64')}`, 'whsec_short', ''],
    headers: [{ 'x-custom': 'v' }, { host: 'x' }, { 'bad name': 'v' }, { 'x-a': 1 }, { __proto__: 'x' }],
    description: ['', 'x'.repeat(10_000)],
    rateLimit: [0, 0.5, 1, -1, 1e308],
    concurrency: [0, 1, 1024, 1025, 1.5],
    timeout: ['5s', '0', '1y', 5, '250ms'],
    retrySchedule: [['0s'], ['0s', '1s'], [], Array(51).fill('1s'), ['1x']],
    graceSeconds: [0, 1, 86_400, 30 * 86_400, 30 * 86_400 + 1, -1, 1.5],
    payload: [{ kind: 'good' }, { n: 1 }, null, JSON.parse('{"__proto__":{"polluted":1}}')],
    reason: ['refunded', '', 'x'.repeat(501)],
    any: [0, 1, -1, 2 ** 31, 1e308, true, false, null, '', 'x'.repeat(300), [], {}],
  };
}

/**
 * What an answer is, of those the property tells apart; it throws on the two it forbids, a 5xx and a
 * 4xx without `{code, message}` (an answer to HEAD has no body to check), and on a 2xx in JSON that
 * does not parse.
 */
function check(request: FuzzRequest, answer: Answer, shapes: Tally): void {
  const text = answer.body.toString('utf8');
  const isJson = /^application\/json/.test(answer.headers['content-type'] ?? '');
  if (answer.status >= 500) {
    shapes.add('5xx');
    throw new Error(`answered ${answer.status}: ${text.slice(0, 500)}`);
  }
  if (answer.status >= 400 && request.method === 'HEAD') return void shapes.add('4xx to HEAD, without a body');
  if (answer.status >= 400) {
    let error: any;
    try {
      error = JSON.parse(text);
    } catch {
      // Counted below, as not {code, message}.
    }
    if (!isJson || typeof error?.code !== 'string' || typeof error?.message !== 'string') {
      shapes.add('4xx without {code, message}');
      throw new Error(`answered ${answer.status} without {code, message}: ${JSON.stringify(text.slice(0, 500))}`);
    }
    return void shapes.add('4xx with {code, message}');
  }
  if (isJson && answer.body.length > 0) JSON.parse(text);
  shapes.add(`${Math.floor(answer.status / 100)}xx`);
}

t.test('fuzz - hostile API requests over every route: no 5xx, every 4xx is {code, message}', async (t) => {
  const receiver = await startReceiver(t);
  const hooksd = await startInProcess(t, {
    server: {
      auth: {
        tokens: [
          { name: 'all', token: TOKEN, scopes: ['read', 'admin', 'publish'] },
          { name: 'reader', token: READ_TOKEN, scopes: ['read'] },
        ],
      },
    },
    eventTypes: [
      { name: 'fuzz.good', example: { kind: 'example' } },
      { name: 'fuzz.checked', schema: { type: 'object', required: ['n'] }, example: { n: 1 } },
    ],
    consumers: [{ id: 'sink', url: receiver.url }],
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const api = (path: string, method = 'GET', body?: unknown) => hooksd.api(path, json(method, body, auth));

  // Records for the path ids to name: an event with its message, an API consumer, a task.
  const published = await api('/v1/events', 'POST', { eventType: 'fuzz.good', payload: { kind: 'seed' } });
  await receiver.waitFor(1, 30_000);
  const { body: event } = await api(`/v1/events/${published.body.id}`);
  await api('/v1/consumers', 'POST', { id: 'api-one', url: receiver.url });
  const { body: task } = await api('/v1/consumers/sink/recover', 'POST', { since: '2024-01-01T00:00:00Z' });
  // A dead letter, for the redrive route: a type outside the catalog, over NATS (the API refuses to publish it).
  const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
  await js.publish('events.fuzz.nope', JSON.stringify({ id: 'fuzz-dead', payload: {} }));
  const dead = await eventually(async () => (await api('/v1/dead-letters')).body.data[0]);
  const { body: openapi } = await hooksd.api('/openapi.json');

  const { body: page } = await api('/v1/consumers?limit=1');
  const known: ApiKnowledge = {
    openapi,
    ids: {
      '/v1/consumers/': ['sink', 'api-one', 'fuzz-new'],
      '/v1/events/': [event.id],
      '/v1/messages/': [event.messages[0].id],
      '/v1/tasks/': [task.id],
      '/v1/dead-letters/': [dead.id],
    },
    fields: fields({ receiver: receiver.url, cursor: page.nextCursor, eventId: event.id }),
    tokens: { all: TOKEN, readOnly: READ_TOKEN },
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const prototypes = prototypeSnapshot();
  const statuses = new Tally();
  const shapes = new Tally();
  const routes = new Tally();
  const started = Date.now();
  let tried = 0;

  const property = fc.asyncProperty(requests(known), async (request) => {
    tried += 1;
    const answer = await send(hooksd.url, request, agent);
    statuses.add(String(answer.status));
    routes.add(request.route);
    if (answer.status < 300) routes.add(`${request.route} 2xx`);
    check(request, answer, shapes);
    // The same connection, when it was kept, takes the next request: a request that broke it fails here, itself.
    const next = await send(hooksd.url, { route: '/healthz', method: 'GET', target: '/healthz', headers: {} }, agent);
    if (next.status !== 200) throw new Error(`GET /healthz after it answered ${next.status}`);
    const changes = prototypeChanges(prototypes);
    if (changes.length > 0) throw new Error(`prototypes changed: ${changes.join(', ')}`);
  });
  const parameters = fuzzParameters<[FuzzRequest]>(t, RUNS);
  try {
    await fc.assert(property, parameters);
  } finally {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.comment(`${tried} cases tried in ${seconds} s; answers: ${shapes}; by status: ${statuses}`);
  }

  const paths = Object.keys(openapi.paths);
  const byRoute = paths.map((path) => `${path} ${routes.get(path)} (${routes.get(`${path} 2xx`)})`);
  t.comment(`requests (2xx answers) by route: ${byRoute.join(', ')}, other paths ${routes.get('other')}`);
  // A quarter of an even share at least; in a short run (a replay, a few cases) chance decides, and it is not checked.
  const few = paths.filter((path) => routes.get(path) < tried / paths.length / 4);
  if (tried >= 1_000) t.same(few, [], `every route of /openapi.json (${paths.length}) had its share of the requests`);
  t.equal(shapes.get('5xx'), 0, 'no answer was a server error');
  t.equal(shapes.get('4xx without {code, message}'), 0, 'every 4xx answer (but to HEAD) was {code, message}');
  t.same(prototypeChanges(prototypes), [], 'no prototype was changed');
  t.equal((await hooksd.api('/readyz')).status, 200, 'hooksd is ready');
  // The fuzz may have disabled the consumer: that is the API working. Enabled again, it takes the next event.
  t.equal((await api('/v1/consumers/sink/enable', 'POST')).status, 200, 'the consumer is enabled');
  const after = await api('/v1/events', 'POST', { eventType: 'fuzz.good', payload: { kind: 'after' } });
  t.equal(after.status, 202, 'an event is published after the fuzz');
  const delivered = await eventually(
    () => receiver.received.find((r) => eventIdOf(r) === after.body.id),
    60_000,
    'the event published after the fuzz to be delivered',
  );
  t.match(
    JSON.parse(delivered.body.toString()),
    { id: after.body.id, eventType: 'fuzz.good', payload: { kind: 'after' } },
    'an event published after the fuzz is delivered, as it was published',
  );
});
