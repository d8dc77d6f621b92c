import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, TlsFiles } from '../../../daemon/dispatch/consumer.js';
import { sendHttp, type HttpOutcome } from '../../../daemon/dispatch/http-attempt.js';
import { NetworkGuard } from '../../../daemon/dispatch/network-guard.js';
import { TRANSPORT_NAMES, TRANSPORTS, type TransportName } from '../../helpers/transports.js';
import { makeCerts } from '../../helpers/certs.js';
import { freePort } from '../../helpers/nats.js';
import { tempDir } from '../../helpers/hooksd.js';

// The node transport against got, the default, on the same answers of real loopback servers.

function consumerWith(t: Test, timeout: number, tls: TlsFiles = {}): Consumer {
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true, ...tls }) };
  t.teardown(() => {
    agent.http.destroy();
    agent.https.destroy();
  });
  return { timeout, agent } as unknown as Consumer;
}

async function serve(t: Test, server: http.Server | https.Server): Promise<string> {
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    connections.forEach((socket) => socket.destroy());
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const loopback = () => new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8'] });
const post = (url: string, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url,
  headers,
  body: '{"hello":"world"}',
});

/** The same request on every transport, one after the other. */
async function onEach(
  send: (transport: TransportName) => Promise<HttpOutcome>,
): Promise<Record<TransportName, HttpOutcome>> {
  const outcomes = {} as Record<TransportName, HttpOutcome>;
  for (const transport of TRANSPORT_NAMES) outcomes[transport] = await send(transport);
  return outcomes;
}

/** What must not differ between transports: everything but the durations and the response's date. */
function comparable(outcome: HttpOutcome) {
  const { durationMs: _d, timings: _t, ...rest } = outcome;
  if (rest.response === undefined) return rest;
  const { date: _date, ...headers } = rest.response.headers;
  return { ...rest, response: { ...rest.response, headers } };
}

const PHASES = ['wait', 'dns', 'tcp', 'request', 'firstByte', 'download', 'total'];

t.test('transports - a 2xx: same status, headers and body, every phase timed and in order', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const url = await serve(
    t,
    http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'x-answer': 'yes' }).end('thanks'));
    }),
  );
  const outcomes = await onEach((transport) =>
    sendHttp(
      consumerWith(t, 10_000),
      post(`${url}/hook`, { 'x-custom': 'a' }),
      1024,
      loopback(),
      TRANSPORTS[transport],
    ),
  );
  t.equal(outcomes.node.outcome, 'success');
  t.same(outcomes.node.response?.body, 'thanks');
  t.same(comparable(outcomes.node), comparable(outcomes.got));
  // The receiver saw the same request headers (custom ones included) from both.
  const { host: _a, ...fromGot } = seen[0]!;
  const { host: _b, ...fromNode } = seen[1]!;
  t.same(fromNode, fromGot);
  t.match(fromNode, { 'x-custom': 'a', 'content-type': 'application/json', 'content-length': '17' });
  t.match(fromNode['user-agent'], /^hooksd\//);
  for (const transport of TRANSPORT_NAMES) {
    const { timings } = outcomes[transport];
    for (const phase of PHASES) t.ok(Number(timings[phase]) >= 0, `${transport}: ${phase} timed (${timings[phase]})`);
    const parts = PHASES.slice(0, -1).reduce((sum, phase) => sum + Number(timings[phase]), 0);
    t.ok(parts <= Number(timings.total), `${transport}: the phases (${parts} ms) fit in the total`);
    t.ok(Number(timings.total) <= outcomes[transport].durationMs + 1, `${transport}: the total within the duration`);
  }
});

t.test('transports - a reused connection has no dns or tcp time; a request header overrides a default', async (t) => {
  const types: string[] = [];
  const sockets = new Set<Socket>();
  const url = await serve(
    t,
    http.createServer((req, res) => {
      types.push(String(req.headers['content-type']));
      sockets.add(req.socket);
      res.end();
    }),
  );
  for (const transport of TRANSPORT_NAMES) {
    sockets.clear();
    const consumer = consumerWith(t, 10_000);
    // The connection opens on a busy moment (the loop held 20 ms while it connects), as on a loaded
    // machine: its tcp time must not be counted again on the request that reuses it.
    const agent = consumer.agent.http as http.Agent & { createConnection: (...args: unknown[]) => Socket };
    const open = agent.createConnection.bind(agent);
    agent.createConnection = (...args: unknown[]) => {
      const socket = open(...args);
      setImmediate(() => {
        const until = Date.now() + 20;
        while (Date.now() < until);
      });
      return socket;
    };
    const first = await sendHttp(consumer, post(`${url}/a`), 1024, loopback(), TRANSPORTS[transport]);
    t.comment(`${transport}: the first request's tcp time ${first.timings.tcp} ms`);
    // The agent takes the socket back a moment after the response ended: the second request reuses it.
    const kept = () => Object.values(consumer.agent.http.freeSockets).flat().length;
    for (let waited = 0; kept() === 0 && waited < 10_000; waited += 10) await sleep(10);
    t.equal(kept(), 1, `${transport}: the connection is kept`);
    const second = await sendHttp(
      consumer,
      post(`${url}/b`, { 'content-type': 'text/plain' }),
      1024,
      loopback(),
      TRANSPORTS[transport],
    );
    t.equal(second.outcome, 'success');
    t.equal(sockets.size, 1, `${transport}: one connection for both requests`);
    const { dns, tcp } = second.timings;
    t.same([dns, tcp], [0, 0], `${transport}: no dns or tcp time on a kept connection`);
    const parts = PHASES.slice(0, -1).reduce((sum, phase) => sum + Number(second.timings[phase] ?? 0), 0);
    t.ok(parts <= Number(second.timings.total), `${transport}: the phases (${parts} ms) fit in the total`);
  }
  t.same(types, ['application/json', 'text/plain', 'application/json', 'text/plain']);
});

t.test('transports - an endless body is cut at maxResponseBytes, a 2xx still a success', async (t) => {
  const url = await serve(
    t,
    http.createServer((_req, res) => {
      res.writeHead(200);
      // Writes until the client goes away: only a transport that stops reading ends.
      const more = () => {
        while (!res.destroyed && res.write(Buffer.alloc(16_384, 'x')));
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    }),
  );
  const outcomes = await onEach((transport) =>
    sendHttp(consumerWith(t, 30_000), post(`${url}/big`), 1000, loopback(), TRANSPORTS[transport]),
  );
  t.equal(outcomes.node.outcome, 'success');
  t.equal(outcomes.node.response?.body, 'x'.repeat(1000));
  t.equal(outcomes.node.response?.truncated, true);
  t.same(comparable(outcomes.node), comparable(outcomes.got));
});

t.test('transports - a non-2xx and a redirect are failures, the redirect not followed', async (t) => {
  let followed = 0;
  const url = await serve(
    t,
    http.createServer((req, res) => {
      if (req.url === '/elsewhere') followed++;
      if (req.url === '/moved') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(503).end('busy');
    }),
  );
  for (const path of ['/moved', '/down']) {
    const outcomes = await onEach((transport) =>
      sendHttp(consumerWith(t, 10_000), post(url + path), 1024, loopback(), TRANSPORTS[transport]),
    );
    t.same(comparable(outcomes.node), comparable(outcomes.got), path);
    t.equal(outcomes.node.errorClass, 'http');
  }
  t.equal(followed, 0);
});

t.test('transports - refused, reset before and during the response: connect failures alike', async (t) => {
  const refused = await onEach(async (transport) =>
    sendHttp(
      consumerWith(t, 10_000),
      post(`http://127.0.0.1:${await freePort()}/`),
      1024,
      loopback(),
      TRANSPORTS[transport],
    ),
  );
  t.equal(refused.node.errorClass, 'connect');
  t.match(refused.node.error, /^ECONNREFUSED: /);
  t.same(refused.node.response, undefined);
  t.equal(refused.got.errorClass, 'connect');

  const url = await serve(
    t,
    http.createServer((req, res) => {
      if (req.url === '/before') req.socket.destroy();
      else {
        res.writeHead(200, { 'content-length': '100' });
        res.write('part', () => setTimeout(() => req.socket.destroy(), 50));
      }
    }),
  );
  const before = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000), post(`${url}/before`), 1024, loopback(), TRANSPORTS[transport]),
  );
  t.same(comparable(before.node), comparable(before.got));
  t.equal(before.node.errorClass, 'connect');
  const during = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000), post(`${url}/during`), 1024, loopback(), TRANSPORTS[transport]),
  );
  t.equal(during.node.errorClass, 'connect');
  t.equal(during.node.response?.body, 'part');
  t.match(during.node.error, /after the response headers \(HTTP 200\)$/);
  t.same(comparable(during.node), comparable(during.got));
});

t.test('transports - the timeout names the step that did not finish, as got does', async (t) => {
  const url = await serve(
    t,
    http.createServer((req, res) => {
      if (req.url === '/headers') return; // never answers
      res.writeHead(200);
      res.write('started'); // never ends
    }),
  );
  for (const path of ['/headers', '/body']) {
    const outcomes = await onEach((transport) =>
      sendHttp(consumerWith(t, 600), post(url + path), 1024, loopback(), TRANSPORTS[transport]),
    );
    t.same(comparable(outcomes.node), comparable(outcomes.got), path);
    t.equal(outcomes.node.errorClass, 'timeout');
    t.ok(outcomes.node.durationMs >= 590 && outcomes.node.durationMs < 10_000, `cut at ${outcomes.node.durationMs} ms`);
  }
  t.match(
    (await sendHttp(consumerWith(t, 600), post(`${url}/headers`), 1024, loopback(), TRANSPORTS.node)).error,
    'ETIMEDOUT: no complete response headers within 600 ms',
  );
});

t.test('transports - TLS: an unknown CA is a tls failure; the client certificate is presented (mTLS)', async (t) => {
  const certs = makeCerts(tempDir(t, 'certs'));
  const clients: string[] = [];
  const url = await serve(
    t,
    https.createServer(
      { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        res.end('ok');
      },
    ),
  );
  const unknownCa = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000), post(`${url}/hook`), 1024, loopback(), TRANSPORTS[transport]),
  );
  t.same(comparable(unknownCa.node), comparable(unknownCa.got));
  t.equal(unknownCa.node.errorClass, 'tls');
  const tls = { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca };
  const mtls = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000, tls), post(`${url}/hook`), 1024, loopback(), TRANSPORTS[transport]),
  );
  t.equal(mtls.node.outcome, 'success');
  t.same(comparable(mtls.node), comparable(mtls.got));
  t.same(clients, ['hooksd test client', 'hooksd test client']);
  t.ok(Number(mtls.node.timings.tls) >= 0, `the handshake timed (${mtls.node.timings.tls} ms)`);
});

t.test('transports - a hostname connects to the address the guard checked, and a refused one is blocked', async (t) => {
  let reached = 0;
  const url = await serve(
    t,
    http.createServer((_req, res) => {
      reached++;
      res.end();
    }),
  );
  const port = new URL(url).port;
  // A name only this guard's resolver knows: the request can reach the server only through it.
  const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
  const pinned = new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8'], resolve });
  const strict = new NetworkGuard({ allowPrivate: false, allowCidrs: [], resolve });
  const allowed = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000), post(`http://pinned.test:${port}/`), 1024, pinned, TRANSPORTS[transport]),
  );
  t.equal(allowed.node.outcome, 'success');
  t.equal(reached, 2);
  const blocked = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000), post(`http://pinned.test:${port}/`), 1024, strict, TRANSPORTS[transport]),
  );
  t.same(comparable(blocked.node), comparable(blocked.got));
  t.equal(blocked.node.errorClass, 'blocked');
  t.match(blocked.node.error, /pinned\.test resolved to 127\.0\.0\.1, a loopback address/);
  t.equal(reached, 2);
});

t.test('transports - a header value node refuses is a failed attempt, not a throw', async (t) => {
  const url = await serve(
    t,
    http.createServer((_req, res) => res.end()),
  );
  const outcomes = await onEach((transport) =>
    sendHttp(consumerWith(t, 10_000), post(`${url}/`, { 'x-bad': 'a\nb' }), 1024, loopback(), TRANSPORTS[transport]),
  );
  t.equal(outcomes.node.outcome, 'failure');
  t.same(comparable(outcomes.node), comparable(outcomes.got));
});
