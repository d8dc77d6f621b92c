import t, { type Test } from 'tap';
import http from 'node:http';
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../config/loader.js';
import { sendHttp, TRANSPORT_GRACE_MS, type HttpTarget } from '../../daemon/dispatch/http-attempt.js';
import { NetworkGuard } from '../../daemon/dispatch/network-guard.js';
import { Pipeline } from '../../daemon/dispatch/pipeline.js';
import { loadTransport } from '../../daemon/dispatch/transport-loader.js';
import { REPO, tempDir } from '../helpers/hooksd.js';

// A custom transport is held to its contract, and a transport named in the wrong place, or with
// bad options, stops loading with its place in the YAML.
const FIXTURES = path.join(REPO, 'test', 'fixtures', 'transports');
const MISBEHAVING = path.join(FIXTURES, 'misbehaving.js');

function target(t: Test, timeout: number): HttpTarget {
  const agent = { http: new http.Agent(), https: new https.Agent() };
  t.teardown(() => {
    agent.http.destroy();
    agent.https.destroy();
  });
  return { timeout, agent, tls: {} };
}

const guard = new NetworkGuard({ allowPrivate: false, allowCidrs: ['127.0.0.0/8'] });
const post = (url: string) => ({ method: 'POST' as const, url, headers: {}, body: '{}' });

async function sendOn(t: Test, mode: string, timeout = 5_000, maxResponseBytes = 1024) {
  const transport = await loadTransport({ use: MISBEHAVING, options: { mode } }, { configDir: FIXTURES }, () => 'test');
  return sendHttp(target(t, timeout), post('http://127.0.0.1:9/hook'), maxResponseBytes, guard, transport);
}

t.test('transport contract - what a custom transport answers becomes the attempt', async (t) => {
  const ok = await sendOn(t, 'ok');
  t.match(ok, {
    outcome: 'success',
    response: { statusCode: 200, body: 'ok', truncated: false },
    timings: { total: 1 },
  });
  t.match(ok.response?.headers['x-seen'], /^hooksd\//, "the request it got carries hooksd's user-agent");
  const long = await sendOn(t, 'long', 5_000, 1000);
  t.equal(long.outcome, 'success');
  t.equal(long.response?.truncated, true, 'a body past maxResponseBytes is cut by hooksd');
  t.ok(Buffer.byteLength(long.response!.body) <= 1000, `${Buffer.byteLength(long.response!.body)} bytes kept`);
});

t.test('transport contract - a transport that breaks it fails the attempt, naming it', async (t) => {
  for (const [mode, errorClass, message] of [
    ['throw', 'connect', 'transport "misbehaving": send() threw: boom'],
    ['reject', 'connect', 'transport "misbehaving": send() threw: went wrong'],
    ['nonsense', 'connect', `transport "misbehaving": its response's statusCode 42 is not an HTTP status`],
    ['empty', 'connect', 'transport "misbehaving": it answered neither a response nor an error'],
  ] as const) {
    const outcome = await sendOn(t, mode);
    t.match(outcome, { outcome: 'failure', errorClass, error: message }, mode);
  }
});

t.test('transport contract - a transport that never answers is given up on after the timeout', async (t) => {
  // hooksd's own timer does not keep a process up: this one stands in for hooksd's NATS connection.
  const alive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(alive));
  const started = Date.now();
  const outcome = await sendOn(t, 'hang', 300);
  const waited = Date.now() - started;
  t.match(outcome, { outcome: 'failure', errorClass: 'timeout', error: /transport "misbehaving": no answer within/ });
  t.ok(waited >= 300 + TRANSPORT_GRACE_MS - 50, `gave up after ${waited} ms, not before the timeout and its grace`);
});

async function loadError(t: Test, config: Record<string, unknown>) {
  const dir = tempDir(t, 'transport-load');
  const file = path.join(dir, 'hooks.config.yaml');
  writeFileSync(file, stringify({ storage: { path: path.join(dir, 'data') }, ...config }));
  try {
    await (await Pipeline.load(loadConfig(file), file)).stop();
    return undefined;
  } catch (error) {
    return error as Error & { code?: string };
  }
}

t.test('transport contract - a wrong transport stops loading, with its place in the YAML', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { delivery: { transport: 'curl' } },
      /:\d+:\d+ plugin "curl": no built-in plugin has this name \(built-ins: got, node\)/,
    ],
    [{ delivery: { transport: 'standardWebhooks' } }, /it is a sign plugin, which belongs in pipeline/],
    [
      { pipeline: ['eventTypes', MISBEHAVING, 'standardWebhooks', 'schedule'] },
      /:\d+:\d+ plugin ".*misbehaving\.js": a transport plugin is named by delivery\.transport/,
    ],
    [
      { delivery: { transport: { use: MISBEHAVING, options: { mode: 'dance' } } } },
      /:\d+:\d+ plugin ".*misbehaving\.js": invalid options: options\.mode must be equal to one of the allowed values/,
    ],
    [
      { delivery: { transport: path.join(FIXTURES, 'no-send.js') } },
      /create\(\) returned no `send\(request\)` function/,
    ],
  ];
  for (const [config, expected] of cases) {
    const error = await loadError(t, config);
    t.equal(error?.code, 'HOOKSD_PLUGIN_INVALID', JSON.stringify(config));
    t.match(error?.message, expected);
  }
  t.equal(await loadError(t, { delivery: { transport: { use: MISBEHAVING, options: { mode: 'ok' } } } }), undefined);
});

t.test('transport contract - a module path is relative to the config file', async (t) => {
  const dir = tempDir(t, 'transport-relative');
  writeFileSync(path.join(dir, 'mine.mjs'), `export * from ${JSON.stringify(MISBEHAVING)};\n`);
  const file = path.join(dir, 'hooks.config.yaml');
  writeFileSync(
    file,
    stringify({
      storage: { path: path.join(dir, 'data') },
      delivery: { transport: { use: './mine.mjs', options: { mode: 'ok' } } },
    }),
  );
  const pipeline = await Pipeline.load(loadConfig(file), file);
  t.equal(pipeline.transport.name, 'misbehaving');
  t.equal(pipeline.transport.source.use, path.join(dir, 'mine.mjs'));
  t.same(pipeline.transport.source.options, { mode: 'ok' });
  await pipeline.stop();
});
