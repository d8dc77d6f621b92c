import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import type { Consumer } from '../../../daemon/dispatch/consumer.js';
import { sendHttp } from '../../../daemon/dispatch/http-attempt.js';
import { TRANSPORT_NAMES, TRANSPORTS } from '../../helpers/transports.js';
import { NetworkGuard, type Resolve } from '../../../daemon/dispatch/network-guard.js';
import { freePort } from '../../helpers/nats.js';

/** What sendHttp reads of a consumer: its timeout and its agents. */
function consumerWith(t: Test, timeout: number): Consumer {
  const agent = { http: new http.Agent(), https: new https.Agent() };
  t.teardown(() => {
    agent.http.destroy();
    agent.https.destroy();
  });
  return { timeout, agent } as unknown as Consumer;
}

const request = (url: string) => ({ method: 'POST' as const, url, headers: {}, body: '{}' });

for (const transport of TRANSPORT_NAMES) {
  t.test(`http attempt (${transport}) - a name that never resolves is a timeout before any connection`, async (t) => {
    // The guard's resolver is where a hostname is looked up: this one never answers.
    const resolve: Resolve = () => new Promise(() => undefined);
    const guard = new NetworkGuard({ allowPrivate: true, allowCidrs: [], resolve });
    // got's timer is unref'd and a pending lookup holds no handle: in hooksd the NATS connection
    // and the API keep the process alive; here this timer does.
    const alive = setInterval(() => undefined, 1000);
    t.teardown(() => clearInterval(alive));
    const outcome = await sendHttp(
      consumerWith(t, 300),
      request('http://stalled.test/hook'),
      1024,
      guard,
      TRANSPORTS[transport],
    );
    t.equal(outcome.outcome, 'failure');
    t.equal(outcome.errorClass, 'timeout');
    t.equal(outcome.error, 'ETIMEDOUT: no connection within 300 ms');
    t.equal(outcome.response, undefined);
    t.ok(outcome.durationMs >= 290 && outcome.durationMs < 5000, `cut at the timeout (${outcome.durationMs} ms)`);
  });

  t.test(`http attempt (${transport}) - a refused connection is a connect failure, with no response`, async (t) => {
    const guard = new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8'] });
    const url = `http://127.0.0.1:${await freePort()}/hook`;
    const outcome = await sendHttp(consumerWith(t, 5000), request(url), 1024, guard, TRANSPORTS[transport]);
    t.equal(outcome.errorClass, 'connect');
    t.match(outcome.error, /^ECONNREFUSED: /);
    t.notMatch(outcome.error, /after the response headers/);
    t.equal(outcome.response, undefined);
  });
}
