import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { sendHttp, type HttpTarget } from '../../daemon/dispatch/http-attempt.js';
import { NetworkGuard } from '../../daemon/dispatch/network-guard.js';
import { loadTransport } from '../../daemon/dispatch/transport-loader.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { REPO } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';

// The proxy transport resolves a host name with the network policy's lookup and opens its tunnel
// to the address that passed, never to the name: a name that resolves to a refused address is
// refused before the proxy is asked.
const PROXY_TRANSPORT = path.join(REPO, 'examples', 'plugins', 'proxy-transport.js');
/** A name only this test's resolver knows: it resolves to the receiver's loopback address. */
const NAME = 'receiver.hooksd.test';
const resolve = async () => [{ address: '127.0.0.1', family: 4 }];

function target(t: Test): HttpTarget {
  const agent = { http: new http.Agent(), https: new https.Agent() };
  t.teardown(() => {
    agent.http.destroy();
    agent.https.destroy();
  });
  return { timeout: 10_000, agent, tls: {} };
}

t.test('proxy transport - a host name is resolved and checked here, the tunnel goes to its address', async (t) => {
  const proxy = await startConnectProxy(t);
  const receiver = await startReceiver(t, () => ({ status: 200, body: 'through' }));
  const transport = await loadTransport(
    { use: PROXY_TRANSPORT, options: { proxy: proxy.url } },
    { configDir: REPO },
    () => 'test',
  );
  const port = new URL(receiver.url).port;
  const request = { method: 'POST' as const, url: `http://${NAME}:${port}/hook`, headers: {}, body: '{"a":1}' };

  const allowed = new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8'], resolve });
  const sent = await sendHttp(target(t), request, 1024, allowed, transport);
  t.match(sent, { outcome: 'success', response: { statusCode: 200, body: 'through' } });
  t.same(proxy.tunnels, [`127.0.0.1:${port}`], 'the tunnel was opened to the checked address, not the name');
  t.equal(receiver.received[0]?.headers.host, `${NAME}:${port}`, 'the request still names the host');

  const strict = new NetworkGuard({ allowPrivate: false, allowCidrs: [], resolve });
  const refused = await sendHttp(target(t), request, 1024, strict, transport);
  t.match(refused, { outcome: 'failure', errorClass: 'blocked', error: /resolved to 127\.0\.0\.1/ });
  t.equal(proxy.tunnels.length, 1, 'the proxy was not asked for the refused one');
});
