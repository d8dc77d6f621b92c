import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { makeCerts } from '../helpers/certs.js';
import { startGateway } from '../helpers/gateway.js';
import { eventually, tempDir, type Daemon } from '../helpers/hooksd.js';

async function finishedAttempts(daemon: Daemon, count: number) {
  const messages = await eventually(async () => {
    const { body } = await daemon.api('/v1/messages');
    return body.data.length === count && body.data.every((m: any) => m.status === 'success' || m.status === 'failure')
      ? body.data
      : undefined;
  });
  const result: Record<string, any> = {};
  for (const m of messages)
    result[m.consumerId] = { message: m, attempt: (await daemon.api(`/v1/messages/${m.id}/attempts`)).body.data[0] };
  return result;
}

t.test(
  'mTLS - a consumer with a client certificate reaches a server that requires one; without it the attempt fails as tls',
  async (t) => {
    const dir = tempDir(t, 'certs');
    const certs = makeCerts(dir);
    const clients: string[] = [];
    const server = https.createServer(
      { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        res.end('ok');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    const { daemon, publish } = await startGateway(t, {
      eventTypes: [{ name: 'company.created' }],
      consumers: [
        // File paths for one, PEM text for the other: both forms are accepted.
        {
          id: 'withCert',
          url,
          tls: { cert: `${dir}/client.crt`, key: `${dir}/client.key`, ca: `${dir}/ca.crt` },
          retrySchedule: ['0s'],
        },
        { id: 'withoutCert', url, tls: { ca: certs.ca }, retrySchedule: ['0s'] },
        { id: 'unknownCa', url, retrySchedule: ['0s'] },
      ],
    });
    await publish('company.created');
    const result = await finishedAttempts(daemon, 3);
    t.equal(result.withCert.message.status, 'success');
    t.same(clients, ['hooksd test client'], 'the server saw the client certificate, once');
    t.equal(result.withoutCert.message.status, 'failure');
    t.match(result.withoutCert.attempt.errorClass, /^(tls|connect)$/, 'refused at the handshake');
    t.equal(result.unknownCa.attempt.errorClass, 'tls', 'a server certificate from an unknown CA is a tls error');
  },
);

t.test('endpoint options - a 100 MB response is cut at maxResponseBytes while reading', async (t) => {
  let sent = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const write = () => {
      while (sent < 100 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      res.end();
    };
    write();
    res.on('close', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { daemon, publish } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    delivery: { maxResponseBytes: 1000, network: { allowCidrs: ['127.0.0.0/8'] } },
    consumers: [{ id: 'huge', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }],
  });
  await publish('company.created');
  const { huge } = await finishedAttempts(daemon, 1);
  t.equal(huge.message.status, 'success', 'the 200 counts');
  t.equal(huge.attempt.response.body, 'x'.repeat(1000));
  t.equal(huge.attempt.response.truncated, true);
  t.ok(
    sent < 100 * 1024 * 1024,
    `hooksd stopped reading long before the end (${Math.round(sent / 1024 / 1024)} MB written)`,
  );
});
