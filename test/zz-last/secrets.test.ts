import t from 'tap';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { makeCerts } from '../helpers/certs.js';
import { startGateway } from '../helpers/gateway.js';
import { eventually, json, tempDir } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';
import { recordCredentials, recordedCredentials, recordedLogs } from '../helpers/suite-record.js';

/**
 * Runs after every other test file (tap runs files in name order, so test/zz-last comes last): the logs of
 * every daemon the suite started are checked for every credential the suite gave them. First
 * a run of its own that uses each kind of credential, so the check always has something to
 * read, and whose API answers and attempt records are checked too.
 */

/** A signing secret, an mTLS private key: never in a log or an answer, whoever's they are. */
const SECRET_SHAPES = [/whsec_[A-Za-z0-9+/]{20,}/, /PRIVATE KEY/];

const ADMIN = 'secrets-admin-token-0123456789';
const READ = 'secrets-read-token-0123456789';
const HEADER = 'Bearer header-credential-0123456789';

t.test('secrets - no API answer but creation and rotation, and no attempt record, shows a credential', async (t) => {
  const dir = tempDir(t, 'secrets');
  const certs = makeCerts(dir);
  const tlsServer = https.createServer(
    { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true },
    (_req, res) => {
      res.writeHead(200);
      res.end('ok');
    },
  );
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => tlsServer.close(() => resolve())));
  const failing = await startReceiver(t, () => ({ status: 500, body: 'no' }));
  const yamlSecret = generateSecret();
  const gateway = await startGateway(t, {
    server: {
      listen: '127.0.0.1:0',
      auth: {
        tokens: [
          { name: 'ops', token: ADMIN, scopes: ['admin', 'read', 'publish'] },
          { name: 'look', token: READ, scopes: ['read'] },
        ],
      },
    },
    eventTypes: [{ name: 'company.created' }],
    consumers: [
      {
        id: 'mtls',
        url: `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/hook`,
        secret: yamlSecret,
        headers: { Authorization: HEADER },
        tls: { cert: certs.clientCert, key: certs.clientKey, ca: certs.ca },
      },
      { id: 'failing', url: failing.url, headers: { 'X-Api-Key': HEADER }, retrySchedule: ['0s'] },
    ],
  });
  const as = (token: string, init: RequestInit = {}) => ({
    ...init,
    headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` },
  });
  const apiSecret = generateSecret();
  recordCredentials({ consumers: [{ secret: apiSecret, headers: { Authorization: HEADER } }] });
  const created = await gateway.api(
    '/v1/consumers',
    as(
      ADMIN,
      json('POST', {
        id: 'made',
        url: failing.url,
        secret: apiSecret,
        headers: { Authorization: HEADER },
        retrySchedule: ['0s'],
      }),
    ),
  );
  t.equal(created.status, 201);
  t.equal(created.body.secret, apiSecret, 'the secret is shown on creation, once');
  const rotated = await gateway.api('/v1/consumers/mtls/secret/rotate', as(ADMIN, json('POST', { graceSeconds: 60 })));
  t.match(rotated.body.secret, /^whsec_/, 'and after a rotation');
  recordCredentials({ consumers: [{ secret: rotated.body.secret }] });
  for (let i = 0; i < 5; i++) await gateway.publish('company.created', { n: i });
  await eventually(
    async () => {
      const { body } = await gateway.api('/v1/messages?status=sending', as(READ));
      const done = (await gateway.api('/v1/messages?limit=250', as(READ))).body.data.length;
      return body.data.length === 0 && done === 15 ? true : undefined;
    },
    60_000,
    'every message attempted',
  );

  // Everything the read token can see.
  const answers: string[] = [];
  const read = async (pathAndQuery: string) => {
    const { status, body } = await gateway.api(pathAndQuery, as(READ));
    t.equal(status, 200, `GET ${pathAndQuery}`);
    answers.push(JSON.stringify(body));
    return body;
  };
  await read('/v1/consumers');
  for (const id of ['mtls', 'failing', 'made']) {
    await read(`/v1/consumers/${id}`);
    await read(`/v1/consumers/${id}/stats`);
  }
  await read('/v1/stats');
  t.ok((await read('/v1/ops-events')).data.length > 0, 'the failed messages are ops events');
  const messages = (await read('/v1/messages?limit=250')).data;
  for (const message of messages) {
    await read(`/v1/messages/${message.id}`);
    await read(`/v1/messages/${message.id}/attempts`);
  }
  const events = (await read('/v1/events')).data;
  for (const event of events) await read(`/v1/events/${event.id}`);
  await read('/v1/dead-letters');
  await read('/openapi.json');
  const metrics = await fetch(`${gateway.daemon.url}/metrics`, as(READ));
  answers.push(await metrics.text());
  const seen = answers.join('\n');
  const credentials = [ADMIN, READ, HEADER, yamlSecret, apiSecret, rotated.body.secret, certs.clientKey];
  t.same(
    credentials.filter((credential) => seen.includes(credential)),
    [],
    `${answers.length} answers, none with a credential`,
  );
  t.notOk(
    SECRET_SHAPES.some((shape) => shape.test(seen)),
    'nor anything shaped like a signing secret or a private key',
  );
  t.match(seen, /"authorization":"\[redacted\]"/i, 'the recorded Authorization header is redacted, not left out');
});

t.test('secrets - no log of any daemon the suite ran contains a credential it was given', async (t) => {
  const logs = recordedLogs();
  const credentials = recordedCredentials();
  t.ok(logs.size > 0, `${logs.size} daemon logs read`);
  t.ok(credentials.length >= 5, `${credentials.length} credentials searched for`);
  const hits: string[] = [];
  for (const [name, text] of logs) {
    for (const credential of credentials)
      if (text.includes(credential)) hits.push(`${name}: ${credential.slice(0, 12)}…`);
    for (const shape of SECRET_SHAPES) if (shape.test(text)) hits.push(`${name}: ${shape}`);
  }
  t.same(hits, [], 'no credential in any log');
  const lines = [...logs.values()].reduce((sum, text) => sum + text.split('\n').length, 0);
  t.comment(`${logs.size} logs, ${lines} lines, ${credentials.length} credentials: ${hits.length} hits`);
});
