import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { eventually, natsClient, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/hooksd.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

const json = (method: string, body?: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});
const EVENT_TYPES = [
  {
    name: 'company.created',
    description: 'A company was created.',
    schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    example: { name: 'Acme Ltd' },
  },
  { name: 'company.deleted', description: 'A company was deleted.' },
  { name: 'read.completed' },
];

async function ids(daemon: Daemon, query: string): Promise<string[]> {
  const { status, body } = await daemon.api(`/v1/consumers?${query}`);
  if (status !== 200) throw new Error(`list answered ${status}: ${JSON.stringify(body)}`);
  return body.data.map((c: { id: string }) => c.id);
}

t.test(
  'api consumers - create, read, update, delete; deliveries follow each change; config-file consumers are read-only',
  async (t) => {
    const nats = await startNats(t);
    const receiver = await startReceiver(t);
    const moved = await startReceiver(t);
    const file = await writeConfig(tempDir(t), {
      nats: { servers: [nats.url] },
      eventTypes: EVENT_TYPES,
      consumers: [{ id: 'from-yaml', url: receiver.url, eventTypes: ['read.completed'] }],
    });
    let daemon = await startDaemon(t, file);
    const nc = await natsClient(t, nats.url);
    const publish = (type: string, payload: unknown) =>
      nc.jetstream().publish(`events.${type}`, JSON.stringify({ id: randomUUID(), payload }));

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

    const duplicate = await daemon.api('/v1/consumers', json('POST', { id: 'from-yaml', url: receiver.url }));
    t.same([duplicate.status, duplicate.body.code], [409, 'HOOKSD_CONSUMER_EXISTS']);
    const badFilter = await daemon.api(
      '/v1/consumers',
      json('POST', { id: 'bad', url: receiver.url, filter: { 'payload.x': { $near: 1 } } }),
    );
    t.same([badFilter.status, badFilter.body.code], [400, 'HOOKSD_INVALID_REQUEST'], 'a filter the plugin refuses');
    t.match(badFilter.body.message, /\$near/);
    const fileField = await daemon.api(
      '/v1/consumers',
      json('POST', { id: 'bad', url: receiver.url, transform: '/etc/passwd' }),
    );
    t.equal(fileField.status, 400, 'fields naming files on the gateway stay in the YAML');
    const badDuration = await daemon.api(
      '/v1/consumers',
      json('POST', { id: 'bad', url: receiver.url, retrySchedule: ['soon'] }),
    );
    t.match(badDuration.body, { code: 'HOOKSD_INVALID_REQUEST', message: /retrySchedule\.0: must be a duration/ });
    t.equal((await daemon.api('/v1/consumers/bad')).status, 404, 'nothing was created by refused requests');

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

    const readOnly = await daemon.api('/v1/consumers/from-yaml', json('PATCH', { description: 'x' }));
    t.same([readOnly.status, readOnly.body.code], [409, 'HOOKSD_CONSUMER_READ_ONLY']);
    t.equal((await daemon.api('/v1/consumers/from-yaml', { method: 'DELETE' })).body.code, 'HOOKSD_CONSUMER_READ_ONLY');
    const disabled = await daemon.api('/v1/consumers/crm', json('PATCH', { disabled: true }));
    t.match(disabled.body, { disabled: true, disabledReason: 'disabled through the API' });

    await daemon.stop();
    daemon = await startDaemon(t, file);
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
    await publish('read.completed', {});
    await receiver.waitFor(2);
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

t.test('api consumers - list filters and a cursor walk that stays right while consumers are added', async (t) => {
  const nats = await startNats(t);
  const file = await writeConfig(tempDir(t), {
    nats: { servers: [nats.url] },
    eventTypes: EVENT_TYPES,
    consumers: [
      {
        id: 'yaml-reads',
        url: 'http://127.0.0.1:9/reads',
        eventTypes: ['read.*'],
        description: 'Reads into the warehouse',
      },
      { id: 'yaml-off', url: 'http://127.0.0.1:9/off', disabled: true },
    ],
  });
  const daemon = await startDaemon(t, file);
  for (let i = 0; i < 12; i += 1) {
    const made = await daemon.api(
      '/v1/consumers',
      json('POST', {
        id: `api-${String(i).padStart(2, '0')}`,
        url: `http://127.0.0.1:9/c${i}`,
        eventTypes: i % 2 === 0 ? ['company.created'] : ['company.*'],
      }),
    );
    t.equal(made.status, 201);
  }
  t.same(await ids(daemon, 'source=yaml'), ['yaml-off', 'yaml-reads']);
  t.same(await ids(daemon, 'disabled=true'), ['yaml-off']);
  t.same(
    await ids(daemon, 'eventType=read.completed'),
    ['yaml-off', 'yaml-reads'],
    "'*' and 'read.*' both take read.completed",
  );
  t.equal((await ids(daemon, 'eventType=company.deleted&source=api')).length, 6, "only the 'company.*' ones");
  t.same(await ids(daemon, 'q=WAREHOUSE'), ['yaml-reads'], 'q searches the description in any case');
  t.same(await ids(daemon, 'q=%2Fc11'), ['api-11'], 'and the url');
  t.equal((await daemon.api('/v1/consumers?source=git')).status, 400);

  const seen: string[] = [];
  let cursor: string | null = null;
  let page = 0;
  do {
    const { body }: { body: any } = await daemon.api(`/v1/consumers?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...body.data.map((c: { id: string }) => c.id));
    cursor = body.nextCursor;
    // Added mid-walk: one sorts before the walk's position, one after.
    if (page++ === 0) {
      await daemon.api('/v1/consumers', json('POST', { id: 'aaa-new', url: 'http://127.0.0.1:9/a' }));
      await daemon.api('/v1/consumers', json('POST', { id: 'zzz-new', url: 'http://127.0.0.1:9/z' }));
    }
  } while (cursor !== null);
  t.equal(new Set(seen).size, seen.length, 'no consumer twice');
  const existing = [
    ...Array.from({ length: 12 }, (_, i) => `api-${String(i).padStart(2, '0')}`),
    'yaml-off',
    'yaml-reads',
  ];
  t.same(
    existing.filter((id) => !seen.includes(id)),
    [],
    'none of those present at the start is missed',
  );
  t.ok(seen.includes('zzz-new') && !seen.includes('aaa-new'), 'new ones appear only ahead of the cursor');

  const types = await daemon.api('/v1/event-types');
  t.same(
    types.body.data.map((e: { name: string }) => e.name),
    ['company.created', 'company.deleted', 'read.completed'],
  );
  t.match(types.body.data[0], {
    description: 'A company was created.',
    schema: { required: ['name'] },
    example: { name: 'Acme Ltd' },
  });
  t.same(types.body.data[2], { name: 'read.completed', description: '', schema: null, example: null });
  const paged = await daemon.api('/v1/event-types?limit=2');
  t.equal(paged.body.data.length, 2);
  t.same(
    (await daemon.api(`/v1/event-types?cursor=${paged.body.nextCursor}`)).body.data.map(
      (e: { name: string }) => e.name,
    ),
    ['read.completed'],
  );
});

t.test(
  'mock event - POST /v1/consumers/:id/test sends the catalog example, signed, recorded and retried',
  async (t) => {
    const nats = await startNats(t);
    let calls = 0;
    const receiver = await startReceiver(t, () => ({ status: ++calls === 1 ? 503 : 200 }));
    const file = await writeConfig(tempDir(t), {
      nats: { servers: [nats.url] },
      eventTypes: EVENT_TYPES,
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
    const daemon = await startDaemon(t, file);
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

    const noExample = await daemon.api('/v1/consumers/partner/test', json('POST', { eventType: 'read.completed' }));
    t.match(noExample.body, { code: 'HOOKSD_INVALID_REQUEST', message: /no example/ });
    const unknownType = await daemon.api('/v1/consumers/partner/test', json('POST', { eventType: 'nope.nothing' }));
    t.match(unknownType.body, { code: 'HOOKSD_INVALID_REQUEST', message: /not in the event catalog/ });
    await daemon.api('/v1/consumers/partner/disable', json('POST'));
    t.equal(
      (await daemon.api('/v1/consumers/partner/test', json('POST', { eventType: 'company.created' }))).body.code,
      'HOOKSD_CONSUMER_DISABLED',
    );
  },
);
