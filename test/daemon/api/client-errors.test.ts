import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { startInProcess } from '../../helpers/in-process.js';

/** Sends raw bytes and reads the whole answer, until the server closes the connection. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** One request through node:http, its answer read whole. */
function request(url: string, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url + path, { method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('api errors - a request line and headers over 16 KB answer 431 as {code, message}', async (t) => {
  const { url } = await startInProcess(t, {});
  const res = await request(url, 'GET', `/v1/consumers/${'i'.repeat(20_000)}`);
  t.equal(res.status, 431);
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(res.headers.connection, 'close');
  const body = JSON.parse(res.body);
  t.equal(body.code, 'HOOKSD_HEADERS_TOO_LARGE');
  t.equal(body.message, `the request line and headers are larger than ${http.maxHeaderSize} bytes`);
  t.equal(body.details, null);
});

t.test('api errors - the 431 answer to HEAD has no body, as HEAD answers never do', async (t) => {
  const { url } = await startInProcess(t, {});
  const res = await request(url, 'HEAD', `/v1/consumers/${'i'.repeat(20_000)}`);
  t.equal(res.status, 431);
  t.equal(res.body, '');
});

t.test('api errors - bytes that are not HTTP answer 400 HOOKSD_BAD_HTTP as {code, message}', async (t) => {
  const { url } = await startInProcess(t, {});
  const answer = await raw(url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  t.equal(body.code, 'HOOKSD_BAD_HTTP');
  t.match(body.message, /^the request is not valid HTTP\/1\.1 \(.+\)$/);

  const latin1 = await raw(url, 'GET /v1/consumers/\xe9 HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(
    latin1,
    /^HTTP\/1\.1 400 Bad Request\r\n[^]*"code":"HOOKSD_BAD_HTTP"/,
    'a raw byte over 0x7f in the path too',
  );
});

t.test('api errors - an Expect header other than 100-continue is passed over: the route answers', async (t) => {
  const { url } = await startInProcess(t, {});
  const res = await request(url, 'GET', '/healthz', { expect: 'nonsense' });
  t.equal(res.status, 200, 'not the 417 with an empty body Node answers by itself');
  t.same(JSON.parse(res.body), { status: 'ok' });
});
