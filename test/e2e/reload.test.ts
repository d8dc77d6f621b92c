import t from 'tap';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { eventIdOf, startGateway } from '../helpers/gateway.js';
import { eventually, tempDir } from '../helpers/hooksd.js';
import { startReceiver, startReceivers } from '../helpers/receiver.js';

const eventIds = (receiver: { received: { body: Buffer }[] }) => receiver.received.map(eventIdOf);

t.test('reload - a changed file adds a consumer; a broken file is refused and the running config stays', async (t) => {
  const [first, second] = await startReceivers(t, 2);
  const {
    daemon,
    configFile: file,
    publish,
  } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'first', url: first.url }],
  });
  const logged = (msg: string) => daemon.logs().filter((l) => l.msg === msg);

  const config = parse(readFileSync(file, 'utf8'));
  config.consumers.push({ id: 'second', url: second.url });
  writeFileSync(file, stringify(config));
  const [reload] = await eventually(
    () => (logged('config reloaded').length === 1 ? logged('config reloaded') : undefined),
    20_000,
    'the reload',
  );
  t.match(reload, { reason: 'file changed', consumers: 2 }, 'the watcher reloaded the changed file');
  const before = await publish('company.created');
  await first.waitFor(1);
  await second.waitFor(1);
  t.same(eventIds(second), [before], 'the added consumer receives');

  writeFileSync(file, stringify({ ...config, delivery: { timeuot: '5s' } }));
  const [refusal] = await eventually(
    () => {
      const refusals = logged('config reload refused: the running config stays');
      return refusals.length === 1 ? (refusals as { problems: string[] }[]) : undefined;
    },
    20_000,
    'the refusal',
  );
  t.match(refusal.problems[0], /delivery\.timeuot: unknown key "timeuot"/);
  const after = await publish('company.created');
  await first.waitFor(2);
  await second.waitFor(2);
  t.same(eventIds(first), [before, after], 'the first consumer still receives, once each');
  t.same(eventIds(second), [before, after], 'and so does the one the refused file kept');
});

t.test('reload - SIGHUP re-reads the file, with no help from the file watcher', async (t) => {
  const receiver = await startReceiver(t);
  // hooksd reads its config through a link in another folder. The watcher watches the link's
  // folder for the link's name, so editing the file the link points to does not fire it: only
  // SIGHUP can make hooksd see the edit.
  const linkDir = tempDir(t, 'link');
  const {
    daemon,
    configFile: target,
    publish,
  } = await startGateway(
    t,
    { eventTypes: [{ name: 'company.created' }], consumers: [] },
    {
      startWith(file) {
        const link = path.join(linkDir, 'hooks.config.yaml');
        symlinkSync(file, link);
        return link;
      },
    },
  );
  t.not(path.dirname(daemon.configFile), path.dirname(target), 'the link and its target are in different folders');
  const reloads = () => daemon.logs().filter((l) => l.msg === 'config reloaded');

  const config = parse(readFileSync(target, 'utf8'));
  config.consumers = [{ id: 'late', url: receiver.url }];
  writeFileSync(target, stringify(config));
  process.kill(daemon.pid, 'SIGHUP');
  const [reload] = await eventually(
    () => (reloads().length > 0 ? reloads() : undefined),
    20_000,
    'a reload after SIGHUP',
  );
  t.match(reload, { reason: 'SIGHUP', consumers: 1 }, 'SIGHUP reloaded the edited file');

  const id = await publish('company.created');
  await receiver.waitFor(1);
  t.same(eventIds(receiver), [id], 'the consumer added before SIGHUP receives the event published after it');
  t.same(
    reloads().map((l) => l.reason),
    ['SIGHUP'],
    'the watcher never reloaded: SIGHUP alone did',
  );
});
