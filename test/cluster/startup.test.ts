import t from 'tap';
import { connect } from 'nats';
import pino from 'pino';
import { loadConfig } from '../../config/loader.js';
import { ensureStreamAndConsumer, openNats } from '../../daemon/ingest/nats.js';
import { eventually, parseLines, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { jetStreamAnswers, startNatsCluster } from '../helpers/nats-cluster.js';
import { startReceiver } from '../helpers/receiver.js';
import { publishSurely } from './load.js';

/**
 * A hooksd started, or restarted, while its NATS cluster has lost its quorum (two of three
 * servers down: JetStream's requests time out) waits for JetStream and starts once the servers
 * are back, instead of exiting with a TIMEOUT.
 */
t.setTimeout(10 * 60_000);

/** Kills servers 2 and 3, leaving server 1 without a quorum; gives them back when asked. */
async function loseQuorum(cluster: Awaited<ReturnType<typeof startNatsCluster>>) {
  await Promise.all(cluster.servers.slice(1).map((server) => server.kill()));
  return async () => {
    await Promise.all(cluster.servers.slice(1).map((server) => server.start()));
    await jetStreamAnswers(cluster.urls);
  };
}

t.test('startup - setting up the stream waits while JetStream does not answer, then sets it up', async (t) => {
  const dir = tempDir(t, 'startup-stream');
  const cluster = await startNatsCluster(t, dir);
  const configFile = await writeConfig(dir, {
    eventTypes: [{ name: 'load.tick' }],
    consumers: [],
    nats: { servers: [cluster.urls[0]], replicas: 3 },
  });
  const config = loadConfig(configFile);
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  let stopping = false;
  const nats = await openNats(config, log, () => stopping);
  t.teardown(async () => {
    stopping = true;
    await nats.stop();
  });
  const giveBack = await loseQuorum(cluster);

  let settled: string | undefined;
  const setUp = ensureStreamAndConsumer(nats, config, log).then(
    () => (settled = 'set up'),
    (error) => (settled = `failed: ${error.message}`),
  );
  const warning = await eventually(
    () => lines.find((line) => String(line.msg).startsWith('JetStream does not answer yet')),
    60_000,
    'a warning that hooksd tries again',
  );
  t.ok(String(warning.msg).includes(`setting up the stream ${config.nats.stream}`), 'the warning says what waits');
  t.equal(settled, undefined, 'it is still waiting, not failed');

  await giveBack();
  await setUp;
  t.equal(settled, 'set up', 'the stream was set up once JetStream answered');
  const info = await nats.jsm.consumers.info(config.nats.stream, config.nats.durable);
  t.equal(info.config.durable_name, config.nats.durable, 'with its durable consumer');
});

t.test('startup - hooksd started without a quorum becomes ready when the servers return, and delivers', async (t) => {
  const dir = tempDir(t, 'startup-daemon');
  const cluster = await startNatsCluster(t, dir);
  const receiver = await startReceiver(t);
  const configFile = await writeConfig(dir, {
    eventTypes: [{ name: 'load.tick' }],
    consumers: [{ id: 'c', url: receiver.url }],
    nats: { servers: [cluster.urls[0]], replicas: 3 },
  });
  const giveBack = await loseQuorum(cluster);
  const starting = startDaemon(t, configFile);
  let ready = false;
  void starting.then(() => (ready = true)).catch(() => undefined);
  // Long enough for JetStream's requests to time out at least once.
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  t.notOk(ready, 'not ready while JetStream has no quorum');
  await giveBack();
  const hooksd = await starting;
  t.ok(
    parseLines(hooksd.output()).some((line) => /tries again/.test(String(line.msg))),
    'it said it was waiting and trying again',
  );

  const nc = await connect({ servers: cluster.urls });
  t.teardown(() => nc.close());
  await publishSurely(nc.jetstream(), 'after-quorum');
  const delivered = await eventually(
    () => receiver.received.find((r) => JSON.parse(r.body.toString()).id === 'after-quorum'),
    60_000,
    'the event delivered',
  );
  t.ok(delivered, 'an event published after the servers returned was delivered');
});
