import t from 'tap';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { startGateway } from '../helpers/gateway.js';
import { eventually, natsClient, REPO } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';
import { startReceiver } from '../helpers/receiver.js';

// A custom transport plugin in the built daemon: the example that sends through a CONNECT
// proxy, named by delivery.transport, on the main thread and again loaded by delivery workers.
const PROXY_TRANSPORT = path.join(REPO, 'examples', 'plugins', 'proxy-transport.js');

for (const workers of [0, 2]) {
  t.test(
    `transport plugin - every request goes through the proxy, signed and recorded (${workers} workers)`,
    async (t) => {
      const proxy = await startConnectProxy(t);
      const receiver = await startReceiver(t, (request) =>
        request.path === '/fails' ? { status: 503, body: 'try later' } : { status: 200, body: 'thanks' },
      );
      const secret = generateSecret();
      const { daemon, publish, api } = await startGateway(t, {
        eventTypes: [{ name: 'company.created' }],
        delivery: {
          network: { allowCidrs: ['127.0.0.0/8'] },
          workers,
          transport: { use: PROXY_TRANSPORT, options: { proxy: proxy.url.replace('//', '//ops:s3cret@') } },
        },
        consumers: [
          { id: 'crm', url: `${receiver.url}/hook`, eventTypes: ['*'], secret },
          { id: 'down', url: `${receiver.url}/fails`, eventTypes: ['*'], retrySchedule: ['0s', '1h'] },
        ],
      });
      t.equal(daemon.logs().find((line) => line.msg === 'hooksd ready')?.transport, 'connectProxy');
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await publish('company.created', { n: i }));
      const hooked = () => receiver.received.filter((r) => r.path === '/hook');
      await eventually(() => new Set(hooked().map((r) => r.headers['webhook-id'])).size === 10 || undefined, 60_000);
      for (const request of hooked())
        new Webhook(secret).verify(request.body.toString('utf8'), request.headers as Record<string, string>);
      const port = new URL(receiver.url).port;
      t.ok(proxy.tunnels.length >= 20, `${proxy.tunnels.length} tunnels for 20 requests`);
      t.ok(
        proxy.tunnels.every((authority) => authority === `127.0.0.1:${port}`),
        'each tunnel to the receiver, by the address the network policy checked',
      );
      t.ok(
        proxy.logins.every((login) => login === `Basic ${Buffer.from('ops:s3cret').toString('base64')}`),
        "the proxy's login on every CONNECT",
      );
      t.notOk(daemon.output().includes('s3cret'), 'the login is not in the log');
      const crm = await eventually(async () => {
        const { body } = await api('/v1/messages?consumerId=crm&status=success');
        return body.data.length === 10 ? body.data : undefined;
      }, 30_000);
      const [attempt] = (await api(`/v1/messages/${crm[0].id}/attempts`)).body.data;
      t.equal(attempt.response.statusCode, 200);
      t.equal(attempt.response.body, 'thanks', 'the response as the transport read it');
      t.ok(attempt.timings.total >= 0, 'timed');
      const down = await eventually(async () => {
        const { body } = await api('/v1/messages?consumerId=down');
        return body.data.length === 10 && body.data.every((m: { attempts: number }) => m.attempts >= 1)
          ? body.data
          : undefined;
      }, 30_000);
      t.ok(
        down.every((m: { status: string }) => m.status === 'attempting'),
        'a 503 through the proxy is a failure the schedule retries',
      );
      const [failed] = (await api(`/v1/messages/${down[0].id}/attempts`)).body.data;
      t.match(failed, { outcome: 'failure', errorClass: 'http', response: { statusCode: 503, body: 'try later' } });
    },
  );
}

t.test('transport plugin - a reload moves the next requests to the new transport, in the workers too', async (t) => {
  const proxy = await startConnectProxy(t);
  const receiver = await startReceiver(t);
  const { nats, reconfigure, logs } = await startInProcess(t, {
    eventTypes: [{ name: 'company.created' }],
    delivery: { network: { allowCidrs: ['127.0.0.0/8'] }, workers: 2, transport: 'got' },
    consumers: [{ id: 'crm', url: `${receiver.url}/hook`, eventTypes: ['*'] }],
  });
  const js = (await natsClient(t, nats!.url)).jetstream();
  const publish = (n: number) =>
    js.publish('events.company.created', JSON.stringify({ id: randomUUID(), payload: { n } }));
  await publish(1);
  await receiver.waitForDistinct(1, 30_000);
  t.equal(proxy.tunnels.length, 0, 'got sends directly');
  await reconfigure((config) => ({
    ...config,
    delivery: { ...config.delivery, transport: { use: PROXY_TRANSPORT, options: { proxy: proxy.url } } },
  }));
  t.equal(
    logs().find((line) => line.msg === 'the next requests are sent on this transport (delivery.transport)')?.transport,
    'connectProxy',
  );
  for (let n = 2; n <= 5; n++) await publish(n);
  await receiver.waitForDistinct(5, 30_000);
  t.ok(proxy.tunnels.length >= 4, `the requests after the reload went through the proxy (${proxy.tunnels.length})`);
});
