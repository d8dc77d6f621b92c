import http from 'node:http';
import t from 'tap';
import { json } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';

/** Requests over one kept-alive connection, each answer read whole. */
function connection(t: Parameters<Parameters<typeof t.test>[1]>[0], url: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  return (method: string, path: string, body?: Buffer) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = http.request(url + path, { method, agent }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end(body);
    });
}

t.test('api - a body over 1 MB answers 413, and the connection takes the next request', async (t) => {
  const { url } = await startInProcess(t, {});
  const send = connection(t, url);
  const tooLarge = await send('POST', '/v1/events', Buffer.alloc(2_000_000, 'x'));
  t.equal(tooLarge.status, 413);
  t.equal(tooLarge.body.code, 'HOOKSD_BODY_TOO_LARGE');
  // Reading had stopped by destroying the request, which closed the connection under the next request.
  const next = await send('GET', '/healthz');
  t.equal(next.status, 200, 'the next request on the same connection is answered');
});

t.test('api - a body nested deeper than 100 levels answers 400, not 500', async (t) => {
  const { api } = await startInProcess(t, { eventTypes: [{ name: 'company.created' }] });
  const deep = `{"eventType":"company.created","payload":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
  const res = await api('/v1/events', json('POST', deep));
  t.equal(res.status, 400);
  t.same(res.body, {
    code: 'HOOKSD_INVALID_REQUEST',
    message: 'the body nests deeper than 100 levels',
    details: null,
  });
  const levels = (n: number) => `{"eventType":"company.created","payload":${'['.repeat(n)}${']'.repeat(n)}}`;
  t.equal((await api('/v1/events', json('POST', levels(99)))).status, 202, '100 levels, the body itself the first');
  t.equal((await api('/v1/events', json('POST', levels(100)))).status, 400, '101 levels');
});

t.test('api - a leap second (23:59:60) is not a date-time the API takes, in queries and bodies', async (t) => {
  const { api } = await startInProcess(t, { consumers: [{ id: 'sink', url: 'http://127.0.0.1:1/' }] });
  const leap = '2016-12-31T23:59:60Z';
  // JavaScript cannot read it: the recover task was stored from NaN and answered 500, then and on every GET.
  const recover = await api('/v1/consumers/sink/recover', json('POST', { since: leap }));
  t.equal(recover.status, 400);
  t.same(recover.body.details, ['body.since: must match format "date-time"']);
  const until = await api('/v1/consumers/sink/recover', json('POST', { since: '2016-12-31T00:00:00Z', until: leap }));
  t.same(until.body.details, ['body.until: must match format "date-time"']);
  const published = await api('/v1/events', json('POST', { eventType: 'a', generatedDate: leap, payload: {} }));
  t.same(published.body.details, ['body.generatedDate: must match format "date-time"']);
  const listed = await api(`/v1/events?since=${leap}`);
  t.same(listed.body.details, ['query.since: must match format "date-time"']);

  const ok = await api('/v1/consumers/sink/recover', json('POST', { since: '2016-12-31T23:59:59.999Z' }));
  t.equal(ok.status, 202, 'the moment before it is taken');
  t.equal((await api(`/v1/tasks/${ok.body.id}`)).body.since, '2016-12-31T23:59:59.999Z');
});
