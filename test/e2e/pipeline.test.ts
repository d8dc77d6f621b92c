import t from 'tap';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { eventIdOf, settledAfter, startGateway } from '../helpers/gateway.js';
import { eventually, REPO, tempDir, writeConfig } from '../helpers/hooksd.js';
import { startReceivers } from '../helpers/receiver.js';

const SCRIPTS = {
  'reshape.js': `function handler(webhook) {
    webhook.method = 'PUT';
    webhook.headers['X-Connection'] = webhook.payload.payload.connection.id;
    webhook.payload = { kind: webhook.payload.eventType, connectionId: webhook.payload.payload.connection.id };
    return webhook;
  }`,
  'cancel.js': 'function handler(webhook) { webhook.cancel = webhook.payload.payload.skip === true; return webhook; }',
  'loop.js': 'function handler(webhook) { while (true) {} }',
};

t.test(
  'pipeline end to end - transforms, filters, cancel and a runaway script, with other deliveries carrying on',
  async (t) => {
    const [reshaped, filtered, cancelling, looping] = await startReceivers(t, 4);
    const dir = tempDir(t);
    for (const [name, source] of Object.entries(SCRIPTS)) writeFileSync(path.join(dir, name), source);
    const secret = generateSecret();
    const { daemon, publish: publishEvent } = await startGateway(
      t,
      {
        eventTypes: [{ name: 'connection.created' }],
        consumers: [
          { id: 'reshaped', url: reshaped.url, transform: './reshape.js', secret },
          {
            id: 'filtered',
            url: filtered.url,
            filter: { 'payload.region': { $in: ['us', 'ca'] }, 'payload.amount': { $gte: 10 } },
          },
          { id: 'cancelling', url: cancelling.url, transform: './cancel.js' },
          { id: 'looping', url: looping.url, transform: './loop.js', retrySchedule: ['0s'] },
        ],
      },
      { dir },
    );
    const publish = (payload: Record<string, unknown>) => {
      const id = randomUUID();
      return publishEvent('connection.created', { connection: { id: `c-${id.slice(0, 4)}` }, ...payload }, { id });
    };
    const usBig = await publish({ region: 'us', amount: 20 });
    await publish({ region: 'us', amount: '20' });
    await publish({ region: 'eu', amount: 50 });
    await publish({ region: 'ca', amount: 5, skip: true });

    const [first] = await reshaped.waitFor(4);
    t.equal(first.method, 'PUT', 'the transform chose PUT');
    const body = first.body.toString();
    t.same(
      JSON.parse(body),
      { kind: 'connection.created', connectionId: `c-${usBig.slice(0, 4)}` },
      'the consumer got the transformed body',
    );
    t.match(first.headers['x-connection'], /^c-/);
    t.doesNotThrow(
      () => new Webhook(secret).verify(body, first.headers as Record<string, string>),
      'signed over the transformed bytes, verified by standardwebhooks',
    );

    const [onlyMatch] = await filtered.waitFor(1);
    t.equal(
      JSON.parse(onlyMatch.body.toString()).id,
      usBig,
      'the filter let through only the event matching both conditions ("20" is not 20)',
    );

    await cancelling.waitFor(3);
    const cancelled = await eventually(
      async () => (await daemon.api('/v1/messages?consumerId=cancelling&status=cancelled')).body.data[0],
    );
    t.match(cancelled.lastError, /cancelled/);

    const failed = await eventually(async () => {
      const { body } = await daemon.api('/v1/messages?consumerId=looping&status=failure');
      return body.data.length === 4 ? body.data : undefined;
    });
    const [attempt] = (await daemon.api(`/v1/messages/${failed[0].id}/attempts`)).body.data;
    t.equal(attempt.errorClass, 'transform');
    t.match(attempt.error, /loop\.js took longer than 50 ms/);
    t.equal(looping.received.length, 0, 'nothing was sent for the runaway script');
    // Once a later event that passes the filter has arrived, and nothing is left to send, any
    // other event the filter let through would have arrived too.
    const sentinel = await publish({ region: 'ca', amount: 10 });
    await settledAfter(daemon.api, filtered, sentinel);
    t.same(filtered.received.map(eventIdOf), [usBig, sentinel], 'the filter let nothing else through');
    t.equal(looping.received.length, 0, 'nor was anything sent for the runaway script since');
    t.equal((await daemon.api('/readyz')).status, 200, 'hooksd carried on');
  },
);

t.test(
  'pipeline end to end - a plugin that fails to load stops start-up, naming it and its YAML location',
  async (t) => {
    const dir = tempDir(t);
    const file = await writeConfig(dir, {
      pipeline: ['eventTypes', { use: './plugins/absent.js' }, 'standardWebhooks', 'schedule'],
    });
    const run = spawnSync(path.join(REPO, 'bin', 'hooksd.js'), ['start', '--config', file], { encoding: 'utf8' });
    t.equal(run.status, 1);
    t.match(run.stderr, /HOOKSD_PLUGIN_INVALID/);
    t.match(run.stderr, `${file}:`);
    t.match(run.stderr, /absent\.js": cannot be loaded/);
    const validate = spawnSync(path.join(REPO, 'bin', 'hooksd.js'), ['validate', '--config', file], {
      encoding: 'utf8',
    });
    t.equal(validate.status, 1, 'hooksd validate reports it too');
    t.match(validate.stderr, /absent\.js": cannot be loaded/);
  },
);
