import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { eventually, json, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

const TOKEN = 'operator-logs-token-0123';

t.test(
  'operator logs - every change through the API is logged with the token name; each failed attempt has a line',
  async (t) => {
    const down = await startReceiver(t, () => ({ status: 500 }));
    const hooksd = await startInProcess(t, {
      server: { auth: { tokens: [{ name: 'alice', token: TOKEN, scopes: ['admin', 'read'] }] } },
      eventTypes: [{ name: 'company.created' }],
    });
    const as = (init: RequestInit) => ({ ...init, headers: { ...init.headers, authorization: `Bearer ${TOKEN}` } });
    const consumer = { id: 'crm', url: down.url, retrySchedule: ['0s', '1h'] };
    t.equal((await hooksd.api('/v1/consumers', as(json('POST', consumer)))).status, 201);
    t.equal((await hooksd.api('/v1/consumers/crm', as(json('PATCH', { description: 'x' })))).status, 200);
    t.equal((await hooksd.api('/v1/consumers/crm/disable', as(json('POST', {})))).status, 200);
    t.equal((await hooksd.api('/v1/consumers/crm/enable', as(json('POST', {})))).status, 200);
    t.equal((await hooksd.api('/v1/consumers/nobody', as(json('DELETE')))).status, 404);
    t.equal((await hooksd.api('/v1/consumers', json('POST', consumer))).status, 401);
    const spare = { id: 'spare', url: down.url, eventTypes: ['company.created'] };
    t.equal((await hooksd.api('/v1/consumers', as(json('POST', spare)))).status, 201);
    t.equal((await hooksd.api('/v1/consumers/spare', as(json('DELETE')))).status, 204);
    await hooksd.api('/v1/consumers', as({}));
    const changes = hooksd.logs().filter((line) => line.msg === 'api change');
    t.same(
      changes.map(({ method, route, path, by, status }) => ({ method, route, path, by, status })),
      [
        { method: 'POST', route: '/v1/consumers', path: '/v1/consumers', by: 'alice', status: 201 },
        { method: 'PATCH', route: '/v1/consumers/:id', path: '/v1/consumers/crm', by: 'alice', status: 200 },
        {
          method: 'POST',
          route: '/v1/consumers/:id/disable',
          path: '/v1/consumers/crm/disable',
          by: 'alice',
          status: 200,
        },
        {
          method: 'POST',
          route: '/v1/consumers/:id/enable',
          path: '/v1/consumers/crm/enable',
          by: 'alice',
          status: 200,
        },
        { method: 'DELETE', route: '/v1/consumers/:id', path: '/v1/consumers/nobody', by: 'alice', status: 404 },
        { method: 'POST', route: '/v1/consumers', path: '/v1/consumers', by: 'no valid token', status: 401 },
        { method: 'POST', route: '/v1/consumers', path: '/v1/consumers', by: 'alice', status: 201 },
        { method: 'DELETE', route: '/v1/consumers/:id', path: '/v1/consumers/spare', by: 'alice', status: 204 },
      ],
      'an audit trail of the changes (created, changed, deleted), refused ones included, none of the reads',
    );
    t.notOk(JSON.stringify(changes).includes(TOKEN), 'never the token itself');

    // One line per disable and per enable, whatever did it: the API here, the health rules below.
    const stateLines = hooksd
      .logs()
      .filter((line) => /\b(disabled|enabled)\b/.test(line.msg))
      .map(({ msg, consumerId, reason }) => ({ msg, consumerId, reason }));
    t.same(
      stateLines,
      [
        {
          msg: 'operational event consumer.disabled',
          consumerId: 'crm',
          reason: 'disabled through the API',
        },
        { msg: 'operational event consumer.enabled', consumerId: 'crm', reason: undefined },
      ],
      'the disable and the enable: one line each, with the reason',
    );

    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.company.created', JSON.stringify({ id: 'e1', payload: {} }));
    const failed = await eventually(() => hooksd.logs().find((line) => line.msg === 'attempt failed'));
    t.match(failed, { level: 40, consumerId: 'crm', eventType: 'company.created', attempt: 1, of: 2, statusCode: 500 });
    t.match(failed.nextAttemptAt, /^\d{4}-\d\d-\d\dT/, 'with when the next attempt is due');
    t.type(failed.messageId, 'string');
    t.equal(
      hooksd.logs().filter((line) => line.msg === 'attempt failed').length,
      1,
      'one line for the one failed attempt',
    );
  },
);

t.test(
  'operator logs - an attempt that gets no answer is logged with its error class; an automatic disable has its line',
  async (t) => {
    // A port on loopback nothing listens on any more: the connection is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'company.created' }],
      consumers: [{ id: 'gone', url, retrySchedule: ['0s', '1h'] }],
      delivery: { disableAfter: '1ms' },
    });
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.company.created', JSON.stringify({ id: 'e1', payload: {} }));
    const failed = await eventually(() => hooksd.logs().find((line) => line.msg === 'attempt failed'));
    t.match(failed, { level: 40, consumerId: 'gone', attempt: 1, of: 2, statusCode: null, errorClass: 'connect' });
    t.match(failed.nextAttemptAt, /^\d{4}-\d\d-\d\dT/, 'with when the next attempt is due');

    // A second failure past delivery.disableAfter disables it: one line, with why.
    const resent = await hooksd.api(`/v1/messages/${failed.messageId}/resend`, json('POST', {}));
    t.equal(resent.status, 202);
    const disabled = await eventually(() =>
      hooksd.logs().find((line) => line.msg === 'operational event consumer.disabled'),
    );
    t.match(disabled, { level: 40, consumerId: 'gone', reason: /every attempt failed since .*delivery\.disableAfter/ });
    t.equal(hooksd.logs().filter((line) => /\bdisabled\b/.test(line.msg)).length, 1, 'one line for the disable');
  },
);

t.test(
  "metrics - the process and Node metrics sit beside hooksd's own, every series labelled with the instance",
  async (t) => {
    const hooksd = await startInProcess(t, { instance: { id: 'solo-1' } });
    const text = await (await fetch(`${hooksd.url}/metrics`)).text();
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    t.ok(samples.length > 50, `${samples.length} samples`);
    const unlabelled = samples.filter((line) => !/^[a-z0-9_:]+\{(?:[^}]*,)?instance="solo-1"[,}]/i.test(line));
    t.same(unlabelled, [], 'every sample carries instance="solo-1"');
    t.match(
      text,
      /^hooksd_instance_info\{instance_id="solo-1",instance="solo-1"\} 1$/m,
      'and the info metric names it',
    );
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'hooksd_events_ingested_total',
      'hooksd_store_operations_total',
    ]) {
      t.match(text, new RegExp(`^${name}`, 'm'), name);
    }
  },
);
