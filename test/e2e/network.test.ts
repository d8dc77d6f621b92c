import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../helpers/gateway.js';
import { eventually } from '../helpers/hooksd.js';

/** One HTTP server on 127.0.0.1 and one on ::1, counting requests. */
async function loopbackServers(t: Test) {
  const hits: string[] = [];
  const listen = async (host: string) => {
    const server = http.createServer((req, res) => {
      hits.push(`${host} ${req.url}`);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  };
  return { hits, v4: await listen('127.0.0.1'), v6: await listen('::1') };
}

async function run(t: Test, network: Record<string, unknown>, urls: Record<string, string>) {
  const { daemon, publish } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    delivery: { network, timeout: '2s' },
    consumers: Object.entries(urls).map(([id, url]) => ({ id, url, retrySchedule: ['0s'] })),
  });
  await publish('company.created');
  const ids = Object.keys(urls);
  const messages = await eventually(async () => {
    const { body } = await daemon.api('/v1/messages');
    const finished = body.data.filter((m: any) => m.status === 'success' || m.status === 'failure');
    return finished.length === ids.length ? finished : undefined;
  });
  const outcome: Record<string, { status: string; error?: string; errorClass?: string }> = {};
  for (const m of messages) {
    const [attempt] = (await daemon.api(`/v1/messages/${m.id}/attempts`)).body.data;
    outcome[m.consumerId] = { status: m.status, error: attempt.error, errorClass: attempt.errorClass };
  }
  return outcome;
}

t.test(
  'network safety - loopback, private, metadata and mapped addresses are refused by default, before connecting',
  async (t) => {
    const servers = await loopbackServers(t);
    const outcome = await run(
      t,
      {},
      {
        v4: `http://127.0.0.1:${servers.v4}/a`,
        v6: `http://[::1]:${servers.v6}/b`,
        private: 'http://10.255.255.1/c',
        metadata: 'http://169.254.169.254/latest/meta-data',
        mapped: `http://[::ffff:127.0.0.1]:${servers.v4}/d`,
        named: `http://localhost:${servers.v4}/e`,
      },
    );
    for (const [id, result] of Object.entries(outcome)) {
      t.equal(result.status, 'failure', `${id} failed`);
      t.equal(result.errorClass, 'blocked', `${id} was blocked`);
      t.match(
        result.error,
        /delivery\.network\.allowPrivate: true or add it to delivery\.network\.allowCidrs/,
        `${id}: the error names the setting`,
      );
    }
    t.match(outcome.metadata.error, /169\.254\.169\.254 is a link-local address/);
    t.match(outcome.named.error, /^localhost resolved to /, 'a hostname is checked by its resolved address');
    t.same(servers.hits, [], 'no request reached a loopback server');
  },
);

t.test('network safety - allowCidrs lets exactly its ranges through', async (t) => {
  const servers = await loopbackServers(t);
  const outcome = await run(
    t,
    { allowCidrs: ['127.0.0.1/32', '::1/128'] },
    {
      v4: `http://127.0.0.1:${servers.v4}/a`,
      v6: `http://[::1]:${servers.v6}/b`,
      mapped: `http://[::ffff:127.0.0.1]:${servers.v4}/d`,
      named: `http://localhost:${servers.v4}/e`,
      otherLoopback: `http://127.0.0.2:${servers.v4}/f`,
      metadata: 'http://169.254.169.254/latest/meta-data',
    },
  );
  for (const id of ['v4', 'v6', 'mapped']) t.equal(outcome[id].status, 'success', `${id} was delivered`);
  t.not(outcome.named.errorClass, 'blocked', 'localhost resolves to an allowed address');
  t.equal(outcome.otherLoopback.errorClass, 'blocked', '127.0.0.2 is outside 127.0.0.1/32');
  t.equal(outcome.metadata.errorClass, 'blocked');
  t.same(servers.hits.filter((h) => !h.endsWith('/e')).sort(), ['127.0.0.1 /a', '127.0.0.1 /d', '::1 /b']);
});
