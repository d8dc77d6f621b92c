import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { settledAfter, startGateway } from '../helpers/gateway.js';
import { CATALOG } from '../helpers/catalog.js';
import { eventually, json, startDaemon } from '../helpers/hooksd.js';
import { startReceiver, startReceivers } from '../helpers/receiver.js';

t.test(
  'api consumers - create, read, update, delete; deliveries follow each change and outlive a restart',
  async (t) => {
    const [receiver, moved] = await startReceivers(t, 2);
    const gateway = await startGateway(t, {
      eventTypes: CATALOG,
      consumers: [{ id: 'from-yaml', url: receiver.url, eventTypes: ['read.completed'] }],
    });
    const { publish } = gateway;
    let { daemon } = gateway;

    const created = await daemon.api(
      '/v1/consumers',
      json('POST', {
        id: 'crm',
        url: receiver.url,
        description: 'CRM sync',
        eventTypes: ['company.*'],
        filter: { 'payload.name': { $startsWith: 'A' } },
        rateLimit: 20,
        timeout: '5s',
      }),
    );
    t.equal(created.status, 201);
    t.match(created.body, {
      id: 'crm',
      source: 'api',
      eventTypes: ['company.*'],
      rateLimit: 20,
      timeoutMs: 5000,
      disabled: false,
      filter: { 'payload.name': { $startsWith: 'A' } },
    });
    const secret: string = created.body.secret;
    t.match(secret, /^whsec_/, 'the generated secret is shown at creation');
    const fetched = await daemon.api('/v1/consumers/crm');
    t.equal(fetched.status, 200);
    t.notOk('secret' in fetched.body, 'and never again');
    t.notMatch(daemon.output(), secret.slice(6), 'nor in the log');

    await publish('company.created', { name: 'Beta' });
    await publish('company.created', { name: 'Acme' });
    const [first] = await receiver.waitFor(1);
    const delivered = new Webhook(secret).verify(first.body.toString(), first.headers as Record<string, string>) as {
      payload: { name: string };
    };
    t.equal(delivered.payload.name, 'Acme', 'the filter let only Acme through, signed with the consumer secret');

    const patched = await daemon.api(
      '/v1/consumers/crm',
      json('PATCH', { url: moved.url, filter: null, rateLimit: null, description: 'CRM v2' }),
    );
    t.equal(patched.status, 200);
    t.match(patched.body, {
      url: moved.url,
      filter: null,
      rateLimit: null,
      description: 'CRM v2',
      eventTypes: ['company.*'],
      timeoutMs: 5000,
    });
    await publish('company.deleted', { name: 'Zed' });
    const [afterPatch] = await moved.waitFor(1);
    t.ok(
      new Webhook(secret).verify(afterPatch.body.toString(), afterPatch.headers as Record<string, string>),
      'the new url gets it, same secret',
    );

    const disabled = await daemon.api('/v1/consumers/crm', json('PATCH', { disabled: true }));
    t.match(disabled.body, { disabled: true, disabledReason: 'disabled through the API' });

    await daemon.stop();
    daemon = await startDaemon(t, gateway.configFile);
    t.match(
      (await daemon.api('/v1/consumers/crm')).body,
      { source: 'api', url: moved.url, description: 'CRM v2', disabled: true },
      'API consumers and their state survive a restart',
    );
    t.equal((await daemon.api('/v1/consumers/crm', json('PATCH', { disabled: false }))).body.disabled, false);
    await publish('company.created', { name: 'After restart' });
    const [restarted] = await moved.waitFor(2);
    t.ok(
      new Webhook(secret).verify(restarted.body.toString(), restarted.headers as Record<string, string>),
      'the stored secret still signs',
    );

    const removed = await daemon.api('/v1/consumers/crm', { method: 'DELETE' });
    t.equal(removed.status, 204);
    t.equal((await daemon.api('/v1/consumers/crm')).status, 404);
    const before = moved.received.length;
    await publish('company.created', { name: 'Gone' });
    const sentinel = await publish('read.completed', {});
    await settledAfter(daemon.api, receiver, sentinel);
    t.equal(moved.received.length, before, 'a deleted consumer gets nothing more');
    const messages = await daemon.api('/v1/messages?consumerId=crm');
    t.equal(messages.body.data.length, 3, 'its messages are kept');

    const down = await startReceiver(t, () => ({ status: 500 }));
    await daemon.api(
      '/v1/consumers',
      json('POST', { id: 'flaky', url: down.url, eventTypes: ['read.completed'], retrySchedule: ['0s', '1h'] }),
    );
    await publish('read.completed', {});
    await down.waitFor(1);
    const pending = await eventually(
      async () => (await daemon.api('/v1/messages?consumerId=flaky&status=attempting')).body.data[0],
    );
    t.equal((await daemon.api('/v1/consumers/flaky', { method: 'DELETE' })).status, 204);
    t.match(
      (await daemon.api(`/v1/messages/${pending.id}`)).body,
      { status: 'skipped', nextAttemptAt: null, lastError: 'consumer "flaky" was deleted' },
      'a retry still due ends skipped at deletion',
    );
    await daemon.api('/v1/consumers', json('POST', { id: 'flaky', url: down.url, eventTypes: ['nothing.here'] }));
    t.equal(
      (await daemon.api('/v1/messages?consumerId=flaky&status=attempting')).body.data.length,
      0,
      'so a new consumer with the same id inherits no retries',
    );
  },
);

t.test(
  'mock event - POST /v1/consumers/:id/test sends the catalog example, signed, recorded and retried',
  async (t) => {
    let calls = 0;
    const receiver = await startReceiver(t, () => ({ status: ++calls === 1 ? 503 : 200 }));
    const { daemon } = await startGateway(t, {
      eventTypes: CATALOG,
      consumers: [
        {
          id: 'partner',
          url: receiver.url,
          eventTypes: ['read.completed'],
          filter: { 'payload.never': { $exist: true } },
          retrySchedule: ['0s', '100ms'],
        },
      ],
    });
    const rotated = await daemon.api('/v1/consumers/partner/secret/rotate', json('POST', { graceSeconds: 0 }));
    const sent = await daemon.api('/v1/consumers/partner/test', json('POST', { eventType: 'company.created' }));
    t.equal(sent.status, 202);
    t.match(sent.body, { id: /^msg_/, consumerId: 'partner', eventType: 'company.created' });

    const [failed, retried] = await receiver.waitFor(2);
    t.equal(failed.headers['webhook-id'], sent.body.id);
    t.equal(retried.headers['webhook-id'], sent.body.id, 'the 503 was retried with the same webhook-id');
    const envelope = new Webhook(rotated.body.secret).verify(
      retried.body.toString(),
      retried.headers as Record<string, string>,
    ) as Record<string, any>;
    t.match(
      envelope,
      { eventType: 'company.created', payload: { name: 'Acme Ltd' } },
      'the example, past the type and payload filters, verified by standardwebhooks',
    );
    const message = await eventually(async () => {
      const { body } = await daemon.api(`/v1/messages/${sent.body.id}`);
      return body.status === 'success' ? body : undefined;
    });
    t.equal(message.attempts, 2);
    t.equal((await daemon.api(`/v1/messages/${sent.body.id}/attempts`)).body.data.length, 2, 'both attempts recorded');
    t.match((await daemon.api(`/v1/events/${envelope.id}`)).body, {
      subject: 'hooksd.mock',
      messages: [{ id: sent.body.id }],
    });
  },
);
