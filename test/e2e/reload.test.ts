import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { eventually, natsClient, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

t.test('reload - a changed file adds a consumer; a broken file is refused and the running config stays', async (t) => {
  const nats = await startNats(t);
  const first = await startReceiver(t);
  const second = await startReceiver(t);
  const file = await writeConfig(tempDir(t), {
    nats: { servers: [nats.url] },
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'first', url: first.url }],
  });
  const daemon = await startDaemon(t, file);
  const nc = await natsClient(t, nats.url);
  const publish = () =>
    nc.jetstream().publish('events.company.created', JSON.stringify({ id: randomUUID(), payload: {} }));
  const reloads = (msg: string) => daemon.logs().filter((l) => l.msg === msg).length;

  const config = parse(readFileSync(file, 'utf8'));
  config.consumers.push({ id: 'second', url: second.url });
  writeFileSync(file, stringify(config));
  await eventually(() => (reloads('config reloaded') === 1 ? true : undefined), 5000, 'the reload');
  await publish();
  await first.waitFor(1);
  await second.waitFor(1);

  writeFileSync(file, stringify({ ...config, delivery: { timeuot: '5s' } }));
  await eventually(
    () => (reloads('config reload refused: the running config stays') === 1 ? true : undefined),
    5000,
    'the refusal',
  );
  const refusal = daemon.logs().find((l) => l.msg === 'config reload refused: the running config stays') as {
    problems: string[];
  };
  t.match(refusal.problems[0], /delivery\.timeuot: unknown key "timeuot"/);
  await publish();
  await first.waitFor(2);
  await second.waitFor(2);
  t.pass('both consumers still receive events');
});

t.test('reload - SIGHUP re-reads the file', async (t) => {
  const nats = await startNats(t);
  const receiver = await startReceiver(t);
  const dir = tempDir(t);
  const file = await writeConfig(dir, {
    nats: { servers: [nats.url] },
    eventTypes: [{ name: 'company.created' }],
    consumers: [],
  });
  const daemon = await startDaemon(t, file);
  const config = parse(readFileSync(file, 'utf8'));
  config.consumers = [{ id: 'late', url: receiver.url }];
  writeFileSync(file, stringify(config));
  process.kill(daemon.pid, 'SIGHUP');
  await eventually(
    () => (daemon.logs().some((l) => l.msg === 'config reloaded') ? true : undefined),
    5000,
    'the reload',
  );
  const nc = await natsClient(t, nats.url);
  await nc.jetstream().publish('events.company.created', JSON.stringify({ id: randomUUID(), payload: {} }));
  await receiver.waitFor(1);
  t.pass('the consumer added before SIGHUP receives events');
});
