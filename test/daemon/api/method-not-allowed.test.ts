import t from 'tap';
import { startInProcess } from '../../helpers/in-process.js';

t.test('api errors - a method a path does not take answers 405 as {code, message} with an Allow header', async (t) => {
  const { url } = await startInProcess(t, {});
  const res = await fetch(`${url}/v1/consumers`, { method: 'PUT' });
  t.equal(res.status, 405);
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  t.match(res.headers.get('allow'), /GET/);
  t.match(res.headers.get('allow'), /POST/);
  const body = await res.json();
  t.equal(body.code, 'HOOKSD_METHOD_NOT_ALLOWED');
  t.match(body.message, /PUT is not allowed on \/v1\/consumers/);
  t.equal(body.details, null);

  const unknown = await fetch(`${url}/v1/no-such-route`, { method: 'DELETE' });
  t.equal(unknown.status, 404);
  t.equal((await unknown.json()).code, 'HOOKSD_ROUTE_NOT_FOUND', 'an unknown path is still a 404');
});
