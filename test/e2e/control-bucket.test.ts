import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { connect } from 'nats';
import { Webhook } from 'standardwebhooks';
import { eventually, json, REPO, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { freePort, startNats } from '../helpers/nats.js';
import { startNatsProcess } from '../helpers/nats-process.js';
import { reapOnExit } from '../helpers/reaper.js';
import { startReceiver, type Received } from '../helpers/receiver.js';

const FIXTURE = path.join(REPO, 'test', 'fixtures', 'legacy-control', 'store');
/** The secrets in the fixture's store (test/fixtures/legacy-control/README.md). */
const YAML_ONE_CONFIG_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const YAML_ONE_ROTATED = 'whsec_UIVzfjxt04gDkxfcFoYau7obhXw5RGV3';
const YAML_TWO_GENERATED = 'whsec_nk8EdkRejm+wwGkmq8AD44du/gIphEuq';
const API_ONE_SECRET = 'whsec_7xnTg8wxkXSHzISHk3NXceGyJBDTJPWi';
const TASK_ID = 'task_0mx71ayky0000f6bae0c69c';

const verifies = (secret: string, request: Received) => {
  try {
    new Webhook(secret).verify(request.body.toString(), request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

t.test(
  'carry-over - control data written to LevelDB by hooksd 0.2 goes to the control bucket at the first start, once',
  async (t) => {
    const dir = tempDir(t, 'carry-over');
    cpSync(FIXTURE, path.join(dir, 'data'), { recursive: true });
    const receiver = await startReceiver(t);
    // One instance on its embedded nats-server, as most run it: the bucket is there too.
    const file = await writeConfig(dir, {
      nats: { embeddedPort: await freePort() },
      eventTypes: [{ name: 'order.placed' }],
      consumers: [
        { id: 'yaml-one', url: `${receiver.url}/yaml-one`, secret: YAML_ONE_CONFIG_SECRET },
        { id: 'yaml-two', url: `${receiver.url}/yaml-two` },
      ],
    });
    const first = await startDaemon(t, file);
    const carried = first
      .logs()
      .filter((line) => line.msg === 'carried the control data kept in LevelDB over to the control bucket, once');
    t.match(carried, [
      { bucket: 'hooksd-control', consumers: 2, secretRecords: 4, states: 1, tasks: 1, keptFromBucket: 0 },
    ]);

    const consumers = (await first.api('/v1/consumers')).body.data as Record<string, any>[];
    const byId = new Map(consumers.map((c) => [c.id, c]));
    t.same([...byId.keys()].sort(), ['api-one', 'api.two', 'yaml-one', 'yaml-two'], 'the API consumers are back');
    t.match(byId.get('api-one'), {
      source: 'api',
      description: 'made through the API',
      eventTypes: ['order.placed'],
      disabled: false,
    });
    t.match(
      byId.get('api.two'),
      { source: 'api', disabled: true, disabledReason: 'disabled through the API' },
      'with their state',
    );
    t.match(
      (await first.api(`/v1/tasks/${TASK_ID}`)).body,
      { id: TASK_ID, kind: 'recover', status: 'done', consumerId: 'api-one' },
      'and the task',
    );

    // The secrets: the rotated one of yaml-one, the generated ones of yaml-two and api-one.
    t.equal((await first.api('/v1/consumers/api-one', json('PATCH', { url: `${receiver.url}/api-one` }))).status, 200);
    t.equal((await first.api('/v1/events', json('POST', { eventType: 'order.placed', payload: {} }))).status, 202);
    await receiver.waitFor(3);
    const at = (p: string) => receiver.received.find((r) => r.path === p) as Received;
    t.ok(verifies(YAML_ONE_ROTATED, at('/yaml-one')), 'yaml-one signs with the secret rotated before the upgrade');
    t.ok(verifies(YAML_TWO_GENERATED, at('/yaml-two')), 'yaml-two with the secret generated before the upgrade');
    t.ok(verifies(API_ONE_SECRET, at('/api-one')), 'api-one with the secret given at its creation');
    t.notOk(first.output().includes('whsec_'), 'no secret in the log');

    // Changed in the bucket, then a restart: the LevelDB copy is not carried over again.
    t.equal((await first.api('/v1/consumers/api-one/disable', json('POST'))).status, 200);
    t.equal((await first.api('/v1/consumers/api.two/enable', json('POST'))).status, 200);
    t.equal(await first.stop(), 0);
    const second = await startDaemon(t, file);
    t.notOk(second.output().includes('carried the control data'), 'once: not at the second start');
    const again = new Map(
      ((await second.api('/v1/consumers')).body.data as Record<string, any>[]).map((c) => [c.id, c]),
    );
    t.equal(again.get('api-one').disabled, true, 'what changed since stays changed');
    t.equal(again.get('api.two').disabled, false);
    t.equal(again.get('api-one').url, `${receiver.url}/api-one`);
  },
);

t.test(
  'malformed values - a value hooksd did not write is logged with its key and skipped, its content never',
  async (t) => {
    const nats = await startNats(t);
    const nc = await connect({ servers: nats.url });
    t.teardown(() => nc.close());
    const kv = await nc.jetstream().views.kv('hooksd-control', { history: 1 });
    const secretLike = 'whsec_' + 'A'.repeat(40);
    await kv.put('consumers.broken', `{"id": "broken", "url": "http://x", "secret": "${secretLike}"`);
    await kv.put('consumers.wrong-id', JSON.stringify({ id: 'other', url: 'http://127.0.0.1:9' }));
    await kv.put('secrets.shop', JSON.stringify({ secrets: secretLike }));
    await kv.put('states.shop', '[1, 2]');
    await kv.put('tasks.task_1', 'null');
    await kv.put('somebody.else', 'whatever');
    const receiver = await startReceiver(t);
    const dir = tempDir(t, 'malformed');
    const file = await writeConfig(dir, {
      nats: { servers: [nats.url] },
      eventTypes: [{ name: 'order.placed' }],
      consumers: [{ id: 'shop', url: receiver.url }],
    });
    const daemon = await startDaemon(t, file);
    const skipped = () =>
      daemon
        .logs()
        .filter((line) => String(line.msg).startsWith('a value in the control bucket is not one hooksd wrote'))
        .map((line) => line.key as string);
    t.same(
      skipped().sort(),
      ['consumers.broken', 'consumers.wrong-id', 'secrets.shop', 'states.shop', 'tasks.task_1'],
      'each malformed value is logged with its key; a key of no kind hooksd writes is left alone',
    );
    t.same(
      ((await daemon.api('/v1/consumers')).body.data as { id: string }[]).map((c) => c.id),
      ['shop'],
      'the malformed consumers are not loaded',
    );
    t.equal((await daemon.api('/v1/tasks/task_1')).status, 404);
    // shop had no good secret: hooksd made one and wrote it over the malformed value.
    const stored = (await kv.get('secrets.shop'))!.json<{ secrets: { secret: string }[] }>();
    t.equal((await daemon.api('/v1/events', json('POST', { eventType: 'order.placed', payload: {} }))).status, 202);
    await receiver.waitFor(1);
    t.ok(
      verifies(stored.secrets[0].secret, receiver.received[0]),
      'shop delivers, signed with the secret now in the bucket',
    );

    // While running: a malformed state is skipped, the consumer keeps its last good state.
    await kv.put('states.shop', '{"disabled": "yes"}');
    await eventually(() => (skipped().filter((key) => key === 'states.shop').length === 2 ? true : undefined));
    t.equal((await daemon.api('/v1/consumers/shop')).body.disabled, false, 'still enabled');
    await kv.put('states.shop', JSON.stringify({ disabled: true, disabledReason: 'by hand', changedAt: Date.now() }));
    await eventually(async () => ((await daemon.api('/v1/consumers/shop')).body.disabled ? true : undefined));
    t.equal((await daemon.api('/readyz')).status, 200, 'hooksd carried on throughout');
    t.notOk(daemon.output().includes(secretLike), 'no malformed content in the log');
    t.notOk(daemon.output().includes('whsec_'), 'no secret in the log');
  },
);

t.test(
  'bucket unavailable - NATS without JetStream: hooksd waits for the bucket, says so, and starts once it can',
  async (t) => {
    const dir = tempDir(t, 'no-jetstream');
    const port = await freePort();
    const plain = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const forget = reapOnExit(plain.pid!);
    const plainExited = new Promise((resolve) => plain.once('exit', resolve));
    t.teardown(async () => {
      plain.kill('SIGKILL');
      await plainExited;
      forget();
    });
    await eventually(async () => {
      const nc = await connect({ servers: `nats://127.0.0.1:${port}` }).catch(() => undefined);
      await nc?.close();
      return nc === undefined ? undefined : true;
    });
    const apiPort = await freePort();
    const file = await writeConfig(dir, {
      server: { listen: `127.0.0.1:${apiPort}` },
      nats: { servers: [`nats://127.0.0.1:${port}`] },
    });
    const starting = startDaemon(t, file);
    const waiting = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined);
      const body = res === undefined ? undefined : await res.json();
      return body?.problems?.nats?.includes('opening the control bucket') ? body : undefined;
    });
    t.equal(
      waiting.problems.nats,
      'connected; opening the control bucket hooksd-control',
      '/readyz says what it waits for',
    );
    // The same server, now with JetStream, on the same port.
    plain.kill('SIGKILL');
    await plainExited;
    await startNatsProcess(t, path.join(dir, 'nats'), port);
    const daemon = await starting;
    const waits = daemon
      .logs()
      .filter((line) => String(line.msg).startsWith('the control bucket cannot be opened; hooksd tries again'));
    t.ok(waits.length >= 1, `it said so while it waited (${waits.length} times)`);
    t.type(waits[0].retryInMs, 'number');
    t.equal((await daemon.api('/readyz')).status, 200, 'then it is ready');
  },
);

t.test('bucket unavailable - with nats.failFast, no JetStream stops hooksd at start with a clear error', async (t) => {
  const port = await freePort();
  const plain = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const forget = reapOnExit(plain.pid!);
  t.teardown(() => {
    plain.kill('SIGKILL');
    forget();
  });
  await eventually(async () => {
    const nc = await connect({ servers: `nats://127.0.0.1:${port}` }).catch(() => undefined);
    await nc?.close();
    return nc === undefined ? undefined : true;
  });
  const file = await writeConfig(tempDir(t, 'no-jetstream-failfast'), {
    nats: { servers: [`nats://127.0.0.1:${port}`], failFast: true },
  });
  const error = await startDaemon(t, file).then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(error?.message, /exited before it was ready \(code 1\)/);
  t.match(
    error?.message,
    new RegExp(
      'HOOKSD_NATS_UNAVAILABLE: cannot open the control bucket hooksd-control \\(a JetStream key-value bucket\\): ' +
        'JetStream does not answer: is it enabled on this NATS\\?',
    ),
  );
});

t.test('watch - after nats-server is killed and back, changes to the bucket still reach hooksd', async (t) => {
  const dir = tempDir(t, 'watch-resumes');
  const nats = await startNatsProcess(t, path.join(dir, 'nats'));
  const file = await writeConfig(dir, {
    nats: { servers: [nats.url] },
    eventTypes: [{ name: 'order.placed' }],
    consumers: [{ id: 'shop', url: 'http://127.0.0.1:9' }],
  });
  const daemon = await startDaemon(t, file);
  await nats.kill();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await nats.start();
  await eventually(async () => ((await daemon.api('/readyz')).status === 200 ? true : undefined), 30_000);
  // Another instance (here a plain client) disables the consumer.
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const kv = await nc.jetstream().views.kv('hooksd-control');
  const putAt = Date.now();
  await kv.put('states.shop', JSON.stringify({ disabled: true, disabledReason: 'by another instance', changedAt: 1 }));
  const shown = await eventually(async () => {
    const consumer = (await daemon.api('/v1/consumers/shop')).body;
    return consumer.disabled ? consumer : undefined;
  }, 30_000);
  t.equal(shown.disabledReason, 'by another instance', 'the watch resumed by itself');
  t.comment(`the change reached hooksd ${Date.now() - putAt} ms after it was written`);
  // And a change through this instance's API still applies (its write comes back through the watch).
  t.equal((await daemon.api('/v1/consumers/shop/enable', json('POST'))).status, 200);
  t.equal((await daemon.api('/v1/consumers/shop')).body.disabled, false);
});
