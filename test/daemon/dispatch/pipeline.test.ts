import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../../config/loader.js';
import { Pipeline } from '../../../daemon/dispatch/pipeline.js';
import { BUILT_IN_PLUGINS } from '../../../daemon/dispatch/plugin-loader.js';
import { generateSecret, decodeSecret } from '../../../plugins/standardWebhooks.js';
import { REPO, tempDir } from '../../helpers/hooksd.js';

const EXAMPLE_PLUGIN = path.join(REPO, 'examples', 'plugins', 'tenant-header.js');

/** Writes a config with `extra` and loads its pipeline; returns the error message when it fails. */
async function load(t: Test, extra: Record<string, unknown>, script?: string) {
  const dir = tempDir(t, 'pipeline');
  if (script) writeFileSync(path.join(dir, 'transform.js'), script);
  const file = path.join(dir, 'hooks.config.yaml');
  writeFileSync(file, stringify({ storage: { path: path.join(dir, 'data') }, ...extra }));
  const config = loadConfig(file);
  try {
    const pipeline = await Pipeline.load(config, file);
    return { pipeline, config, file };
  } catch (error) {
    return { error: error as Error & { code?: string }, file };
  }
}

const consumer = { id: 'c', url: 'https://example.com/hook' };
const event = {
  id: 'e1',
  eventType: 'connection.created',
  generatedDate: '2026-01-01T00:00:00Z',
  payload: { companyId: 'acme', amount: 120 },
};

t.test(
  'plugin conformance - every built-in and the example custom plugin load, validate options, run and stop',
  async (t) => {
    const { pipeline, config, error } = await load(
      t,
      {
        pipeline: [
          'eventTypes',
          'payloadFilter',
          'script',
          { use: EXAMPLE_PLUGIN, options: { path: 'payload.companyId' } },
          { use: 'standardWebhooks', options: { headerPrefix: 'svix' } },
          { use: 'schedule', options: { jitter: 0 } },
        ],
        consumers: [
          {
            ...consumer,
            eventTypes: ['connection.*'],
            filter: { 'payload.amount': { $gt: 100 } },
            transform: './transform.js',
            retrySchedule: ['0s', '10s'],
          },
        ],
      },
      'function handler(webhook) { webhook.payload.payload.touched = true; return webhook; }',
    );
    t.error(error);
    await pipeline!.start();
    const run = pipeline!.forConsumer(config!.consumers[0]);
    t.ok(run.matchesType('connection.created'), 'eventTypes: matching type');
    t.notOk(run.matchesType('read.completed'), 'eventTypes: other type');
    t.ok(run.accepts(event), 'payloadFilter: matching payload');
    t.notOk(run.accepts({ ...event, payload: { amount: 50 } }), 'payloadFilter: other payload');
    let webhook = { method: 'POST' as const, url: consumer.url, headers: {}, payload: event as unknown, cancel: false };
    for (const transform of run.transforms) webhook = transform(webhook);
    t.equal((webhook.payload as any).payload.touched, true, 'script ran');
    t.equal(webhook.headers['X-Tenant' as never], 'acme', 'the custom plugin ran with its defaulted option');
    const headers = run.sign.headers({
      messageId: 'msg_1',
      timestamp: 1,
      body: '{}',
      keys: [decodeSecret(generateSecret())],
    });
    t.same(
      Object.keys(headers).sort(),
      ['svix-id', 'svix-signature', 'svix-timestamp'],
      'standardWebhooks ran with its option',
    );
    t.same(run.retry.schedule, [0, 10_000], "the consumer's retrySchedule replaces the plugin's schedule");
    t.equal(run.retry.nextDelay(1, { statusCode: 500 }), 10_000, 'schedule ran with its option jitter: 0');
    t.equal(run.retry.nextDelay(2, { statusCode: 500 }), null, 'schedule ran');
    await pipeline!.stop();
    t.equal(BUILT_IN_PLUGINS.length, 7);
  },
);

t.test('plugin conformance - bad options stop loading with the plugin name and its YAML location', async (t) => {
  for (const [entry, expected] of [
    [
      { use: 'standardWebhooks', options: { headerPrefix: 'x' } },
      /plugin "standardWebhooks": invalid options: options.headerPrefix must be equal to one of the allowed values/,
    ],
    [{ use: 'script', options: { timeout: 'soon' } }, /plugin "script": invalid options: options.timeout/],
    [{ use: 'eventTypes', options: { extra: 1 } }, /plugin "eventTypes": invalid options/],
    [
      { use: 'schedule', options: { overloadFloor: 'soon', jitter: 2 } },
      /plugin "schedule": invalid options: options.jitter must be <= 1; options.overloadFloor must be a duration/,
    ],
    [
      { use: EXAMPLE_PLUGIN, options: {} },
      /tenant-header\.js": invalid options: options must have required property 'path'/,
    ],
    ['nonsense', /plugin "nonsense": no built-in plugin has this name/],
    ['./missing-plugin.js', /missing-plugin\.js": cannot be loaded: Cannot find module/],
  ] as const) {
    const { error, file } = await load(t, { pipeline: ['eventTypes', entry, 'standardWebhooks', 'schedule'] });
    t.equal(error?.code, 'HOOKSD_PLUGIN_INVALID');
    t.match(error?.message, `${file}:`, 'names the file');
    t.match(error?.message, /hooks\.config\.yaml:\d+:\d+ /, 'with line and column');
    t.match(error?.message, expected);
  }
});

t.test(
  'plugin conformance - a module that is not a plugin, a bad filter and a broken script are refused at load',
  async (t) => {
    const dir = tempDir(t, 'notplugin');
    writeFileSync(path.join(dir, 'not-a-plugin.mjs'), 'export const hello = 1;\n');
    const notPlugin = await load(t, {
      pipeline: ['eventTypes', path.join(dir, 'not-a-plugin.mjs'), 'standardWebhooks', 'schedule'],
    });
    t.match(
      notPlugin.error?.message,
      /it exports no `name`; its `kind` must be one of filter, transform, sign, retry, transport;/,
    );
    t.match(notPlugin.error?.message, /; it exports no `optionsSchema`; it exports no `create/);
    const badFilter = await load(t, { consumers: [{ ...consumer, filter: { 'payload.x': { $regex: '(a+)+$' } } }] });
    t.equal(badFilter.error?.code, 'HOOKSD_PLUGIN_INVALID');
    t.match(badFilter.error?.message, /hooks\.config\.yaml:\d+:\d+ consumers\[0\] \(c\):.*\$regex/);
    const badScript = await load(
      t,
      { consumers: [{ ...consumer, transform: './transform.js' }] },
      'function handler(webhook) { return webhook',
    );
    t.match(badScript.error?.message, /consumers\[0\] \(c\):.*transform\.js:1/);
    const noSign = await load(t, { pipeline: ['eventTypes', 'schedule'], consumers: [consumer] });
    t.match(noSign.error?.message, /has no sign plugin/);
  },
);
