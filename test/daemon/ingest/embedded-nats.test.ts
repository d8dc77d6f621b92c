import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { connect, StringCodec } from 'nats';
import t, { type Test } from 'tap';
import { EmbeddedNats } from '../../../daemon/ingest/embedded-nats.js';
import { HooksdError } from '../../../daemon/common/errors.js';
import { freePort, startNats } from '../../helpers/nats.js';

const codec = StringCodec();

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** Points HOOKSD_NATS_SERVER_BIN at `bin` for this test only. */
function useServerBin(t: Test, bin: string): void {
  const previous = process.env.HOOKSD_NATS_SERVER_BIN;
  process.env.HOOKSD_NATS_SERVER_BIN = bin;
  t.teardown(() => {
    if (previous === undefined) delete process.env.HOOKSD_NATS_SERVER_BIN;
    else process.env.HOOKSD_NATS_SERVER_BIN = previous;
  });
}

t.test('embedded nats - serves JetStream, then stops and frees its port', async (t) => {
  const port = await freePort();
  const nats = new EmbeddedNats({ storeDir: path.join(t.testdir(), 'store'), port });
  t.teardown(() => nats.stop());

  const url = await nats.start();
  t.equal(url, `nats://127.0.0.1:${port}`);
  t.equal(await nats.start(), url, 'a second start() returns the running server');
  const pid = nats.pid;
  t.type(pid, 'number');

  const nc = await connect({ servers: url });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'EMBEDDED_TEST', subjects: ['events.>'] });
  const js = nc.jetstream();
  const ack = await js.publish('events.connection.created', codec.encode('{"id":"1"}'));
  t.equal(ack.stream, 'EMBEDDED_TEST');
  const consumer = await js.consumers.get('EMBEDDED_TEST');
  const message = await consumer.next({ expires: 5000 });
  t.equal(message?.subject, 'events.connection.created');
  t.equal(message === null ? undefined : codec.decode(message.data), '{"id":"1"}');
  await nc.close();

  await nats.stop();
  t.notOk(processExists(pid!), 'nats-server process is gone');
  t.equal(nats.pid, undefined);
  const server = await listen(port);
  t.equal((server.address() as AddressInfo).port, port, 'the port is free again: this process could bind it');
  await close(server);
  await t.resolves(nats.stop(), 'stop() twice is harmless');
  t.equal(nats.pid, undefined, 'and starts nothing');
});

t.test('embedded nats - keeps JetStream data across stop and start with the same store dir', async (t) => {
  const storeDir = t.testdir();
  const port = await freePort();
  const nats = new EmbeddedNats({ storeDir, port });
  t.teardown(() => nats.stop());
  let nc = await connect({ servers: await nats.start() });
  await (await nc.jetstreamManager()).streams.add({ name: 'DURABLE_TEST', subjects: ['events.>'] });
  const js = nc.jetstream();
  for (const id of ['1', '2', '3']) await js.publish('events.read.completed', codec.encode(id));
  await nc.close();
  await nats.stop();

  nc = await connect({ servers: await nats.start() });
  const info = await (await nc.jetstreamManager()).streams.info('DURABLE_TEST');
  t.equal(info.state.messages, 3);
  await nc.close();
});

t.test('embedded nats - a missing nats-server binary says how to install it', async (t) => {
  useServerBin(t, path.join(t.testdir(), 'no-such-nats-server'));
  const nats = new EmbeddedNats({ storeDir: t.testdir(), port: await freePort() });
  t.teardown(() => nats.stop());

  const err = await nats.start().catch((e: unknown) => e);
  t.type(err, HooksdError);
  t.equal((err as HooksdError).code, 'HOOKSD_NATS_SERVER_MISSING');
  t.match((err as HooksdError).message, /apt-get install nats-server/);
  t.match((err as HooksdError).message, /nats\.servers/);
});

t.test("embedded nats - a port already in use fails with nats-server's own error", async (t) => {
  const running = await startNats(t);
  const nats = new EmbeddedNats({ storeDir: path.join(t.testdir(), 'second'), port: running.port });
  t.teardown(() => nats.stop());

  const err = await nats.start().catch((e: unknown) => e);
  t.type(err, HooksdError);
  t.equal((err as HooksdError).code, 'HOOKSD_NATS_UNAVAILABLE');
  t.match((err as HooksdError).message, /address already in use/);
  t.match((err as HooksdError).message, new RegExp(`127\\.0\\.0\\.1:${running.port}`));
});

t.test('embedded nats - a server that never gets ready times out with its last output, and is killed', async (t) => {
  const dir = t.testdir();
  const pidFile = path.join(dir, 'pid');
  const bin = path.join(dir, 'stuck-nats-server');
  // Its output must be read before the timeout, however slowly a busy machine starts a shell.
  writeFileSync(bin, `#!/bin/sh\necho $$ > '${pidFile}'\necho 'loading something slow' >&2\nexec sleep 60\n`);
  chmodSync(bin, 0o755);
  useServerBin(t, bin);
  const nats = new EmbeddedNats({ storeDir: path.join(dir, 'store'), port: await freePort(), readyTimeoutMs: 3000 });
  t.teardown(() => nats.stop());

  const err = await nats.start().catch((e: unknown) => e);
  t.type(err, HooksdError);
  t.equal((err as HooksdError).code, 'HOOKSD_NATS_UNAVAILABLE');
  t.match((err as HooksdError).message, /did not report ready within 3s/);
  t.match((err as HooksdError).message, /loading something slow/);
  t.notOk(processExists(Number(readFileSync(pidFile, 'utf8'))), 'the stuck process was killed');
});

t.test('embedded nats - start() after the server died launches a new one', async (t) => {
  const nats = new EmbeddedNats({ storeDir: t.testdir(), port: await freePort() });
  t.teardown(() => nats.stop());
  const url = await nats.start();
  const deadPid = nats.pid!;
  process.kill(deadPid, 'SIGKILL');
  while (nats.pid !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));

  t.equal(await nats.start(), url);
  t.not(nats.pid, deadPid);
  const nc = await connect({ servers: url });
  t.teardown(() => nc.close());
  const sub = nc.subscribe('probe', { max: 1 });
  nc.publish('probe', codec.encode('are you there'));
  const answers: string[] = [];
  for await (const m of sub) answers.push(codec.decode(m.data));
  t.same(answers, ['are you there'], 'the new server answers: a message published to it comes back');
});
