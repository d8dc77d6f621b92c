import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Worker } from 'node:worker_threads';
import { createLogger } from '../../../daemon/common/log.js';
import type { Consumer, TlsFiles } from '../../../daemon/dispatch/consumer.js';
import { DeliveryPool, defaultWorkers } from '../../../daemon/dispatch/delivery-pool.js';
import { sendHttp, type HttpOutcome } from '../../../daemon/dispatch/http-attempt.js';
import { TRANSPORTS, type TransportName } from '../../helpers/transports.js';
import { NetworkGuard } from '../../../daemon/dispatch/network-guard.js';
import { makeCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/hooksd.js';

/** got unless HOOKSD_TEST_TRANSPORT names another (test/transport-node runs this file again on node). */
const TRANSPORT = TRANSPORTS[(process.env.HOOKSD_TEST_TRANSPORT || 'got') as TransportName];

/** What the pool reads of a consumer: its timeout, concurrency, TLS files and (main-thread) agents. */
function consumerWith(t: Test, timeout: number, tls: TlsFiles = {}): Consumer {
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ...tls }) };
  t.teardown(() => {
    agent.http.destroy();
    agent.https.destroy();
  });
  return { timeout, concurrency: 4, tls, agent } as unknown as Consumer;
}

/** Sockets an agent ever opened that are still open or kept. */
const socketsOf = (agent: http.Agent) =>
  Object.values(agent.sockets).flat().length + Object.values(agent.freeSockets).flat().length;

async function startPool(t: Test, size = 2): Promise<{ pool: DeliveryPool; logs: () => string }> {
  let output = '';
  const pool = new DeliveryPool(size, createLogger('info', { write: (line: string) => void (output += line) }));
  t.teardown(() => pool.close());
  await pool.ready();
  return { pool, logs: () => output };
}

/** A loopback server; `connections` are the sockets it accepted. */
async function serve(t: Test, server: http.Server | https.Server): Promise<{ url: string; connections: Socket[] }> {
  const connections: Socket[] = [];
  server.on('connection', (socket: Socket) => connections.push(socket));
  server.on('secureConnection', (socket: Socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    connections.forEach((socket) => socket.destroy());
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return { url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}

const loopback = () => new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8'] });
const post = (url: string, body: string | Buffer = '{}') => ({
  method: 'POST' as const,
  url,
  headers: { 'x-test': 'yes' },
  body,
});

/** The parts of an outcome both paths must agree on (durations and timings differ run to run). */
function comparable(outcome: HttpOutcome) {
  const { response } = outcome;
  return {
    outcome: outcome.outcome,
    errorClass: outcome.errorClass,
    error: outcome.error,
    response: response && {
      statusCode: response.statusCode,
      body: response.body,
      truncated: response.truncated,
      header: response.headers['x-answer'],
    },
  };
}

t.test('delivery pool - the default is no workers on 2 cores or fewer, else one less than the cores', async (t) => {
  t.equal(defaultWorkers(1), 0);
  t.equal(defaultWorkers(2), 0);
  t.equal(defaultWorkers(3), 2);
  t.equal(defaultWorkers(16), 15);
});

t.test('delivery pool - outcomes match the main thread, and the main thread opens no socket', async (t) => {
  const received: { path: string; body: string; header: unknown }[] = [];
  const { url } = await serve(
    t,
    http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ path: req.url!, body: Buffer.concat(chunks).toString(), header: req.headers['x-test'] });
        res.setHeader('x-answer', req.url!);
        if (req.url === '/ok') res.end('fine');
        else if (req.url === '/fail') res.writeHead(500).end('broken');
        else if (req.url === '/big') res.end('x'.repeat(100_000));
        else if (req.url === '/slow') setTimeout(() => res.end('late'), 3000);
        else res.writeHead(302, { location: '/ok' }).end();
      });
    }),
  );
  const guard = loopback();
  const { pool } = await startPool(t);
  const onWorkers = consumerWith(t, 1000);
  const onMain = consumerWith(t, 1000);
  // A small Buffer is a view into a shared 8 kB pool: only its own bytes may be sent.
  const shared = Buffer.from('{"shared":true}');
  for (const path of ['/ok', '/fail', '/big', '/slow', '/redirect']) {
    const viaPool = await pool.send(onWorkers, post(url + path, shared), 1024, guard, TRANSPORT);
    const viaMain = await sendHttp(onMain, post(url + path, shared), 1024, guard, TRANSPORT);
    t.same(comparable(viaPool), comparable(viaMain), `${path}: the same outcome on both paths`);
    t.ok(viaPool.durationMs >= 0 && typeof viaPool.timings === 'object', `${path}: a duration and timings`);
  }
  const ok = await pool.send(onWorkers, post(`${url}/ok`), 1024, guard, TRANSPORT);
  t.equal(ok.outcome, 'success');
  t.equal(ok.response?.body, 'fine');
  t.ok(ok.timings.total !== undefined && ok.timings.total >= 0, "got's phase timings come back");
  const big = await pool.send(onWorkers, post(`${url}/big`), 1024, guard, TRANSPORT);
  t.equal(big.response?.body.length, 1024, 'cut at maxResponseBytes');
  t.equal(big.response?.truncated, true);
  const slow = await pool.send(onWorkers, post(`${url}/slow`), 1024, guard, TRANSPORT);
  t.equal(slow.errorClass, 'timeout');
  t.equal(slow.error, 'ETIMEDOUT: no complete response headers within 1000 ms');
  const redirect = await pool.send(onWorkers, post(`${url}/redirect`), 1024, guard, TRANSPORT);
  t.equal(redirect.response?.statusCode, 302, 'a redirect is not followed');
  t.equal(redirect.errorClass, 'http');
  t.ok(
    received.every((r) => r.body === '{"shared":true}' || r.body === '{}'),
    'every body arrived as sent, byte for byte',
  );
  t.ok(
    received.every((r) => r.header === 'yes'),
    'the headers arrived',
  );
  t.equal(socketsOf(onWorkers.agent.http), 0, "the consumer's main-thread agent opened no socket: a worker sent them");
  t.ok(socketsOf(onMain.agent.http) > 0, 'the main-thread path did use its agent');
});

t.test('delivery pool - the network guard holds in the worker, for IP literals and for resolved names', async (t) => {
  let reached = 0;
  const { url } = await serve(
    t,
    http.createServer((_req, res) => {
      reached++;
      res.end();
    }),
  );
  const { pool } = await startPool(t);
  const strict = new NetworkGuard({ allowPrivate: false, allowCidrs: [] });
  const consumer = consumerWith(t, 5000);
  const literal = await pool.send(consumer, post(`${url}/hook`), 1024, strict, TRANSPORT);
  t.equal(literal.errorClass, 'blocked');
  t.match(literal.error, /^127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\)/);
  const port = new URL(url).port;
  const named = await pool.send(consumer, post(`http://localhost:${port}/hook`), 1024, strict, TRANSPORT);
  t.equal(named.errorClass, 'blocked', 'localhost resolves to a loopback address, refused in the lookup');
  t.match(named.error, /^localhost resolved to (127\.0\.0\.1|::1), /);
  t.equal(reached, 0, 'nothing reached the server');
  // A new guard (a reload) reaches the workers before the next request.
  const allowed = await pool.send(consumer, post(`${url}/hook`), 1024, loopback(), TRANSPORT);
  t.equal(allowed.outcome, 'success');
  t.equal(reached, 1);
});

t.test('delivery pool - mTLS: the worker presents the consumer client certificate', async (t) => {
  const dir = tempDir(t, 'certs');
  const certs = makeCerts(dir);
  const clients: string[] = [];
  const { url } = await serve(
    t,
    https.createServer(
      { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        res.end('ok');
      },
    ),
  );
  const { pool } = await startPool(t);
  const withCert = consumerWith(t, 5000, { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca });
  const withoutCert = consumerWith(t, 5000, { ca: certs.ca });
  const unknownCa = consumerWith(t, 5000);
  const guard = loopback();
  t.equal((await pool.send(withCert, post(`${url}/hook`), 1024, guard, TRANSPORT)).outcome, 'success');
  t.same(clients, ['hooksd test client']);
  t.match((await pool.send(withoutCert, post(`${url}/hook`), 1024, guard, TRANSPORT)).errorClass, /^(tls|connect)$/);
  t.equal((await pool.send(unknownCa, post(`${url}/hook`), 1024, guard, TRANSPORT)).errorClass, 'tls');
});

t.test("delivery pool - forgetting a consumer closes the workers' kept-alive connections", async (t) => {
  const { url, connections } = await serve(
    t,
    http.createServer((_req, res) => res.end()),
  );
  const { pool } = await startPool(t, 1);
  const consumer = consumerWith(t, 5000);
  t.equal((await pool.send(consumer, post(`${url}/hook`), 1024, loopback(), TRANSPORT)).outcome, 'success');
  t.equal(connections.length, 1);
  const closed = new Promise<void>((resolve) => connections[0]!.once('close', () => resolve()));
  pool.forget(consumer.agent);
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 30_000).unref());
  t.equal(await Promise.race([closed.then(() => 'closed'), timeout]), 'closed', 'the kept socket was closed');
});

t.test('delivery pool - a worker that dies fails its requests in flight and is replaced', async (t) => {
  let answer: (() => void) | undefined;
  const { url } = await serve(
    t,
    http.createServer((req, res) => {
      if (req.url === '/hang') answer = () => res.end();
      else res.end();
    }),
  );
  const { pool, logs } = await startPool(t, 1);
  t.teardown(() => answer?.());
  const consumer = consumerWith(t, 60_000);
  const hanging = pool.send(consumer, post(`${url}/hang`), 1024, loopback(), TRANSPORT);
  while (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
  // The real thread stopped from outside, as a crash would stop it.
  const { slots } = pool as unknown as { slots: { worker: Worker }[] };
  await slots[0]!.worker.terminate();
  const failed = await hanging;
  t.equal(failed.outcome, 'failure');
  t.equal(failed.errorClass, 'connect', 'a failure the retry policy retries');
  t.match(failed.error, /the delivery worker sending this request stopped/);
  t.match(logs(), /a delivery worker stopped/);
  const after = await pool.send(consumer, post(`${url}/after`), 1024, loopback(), TRANSPORT);
  t.equal(after.outcome, 'success', 'the replacement worker sends');
});
