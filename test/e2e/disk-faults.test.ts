import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eventIdOf } from '../helpers/gateway.js';
import { eventually, natsClient, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

/** Mounts a tmpfs of `megabytes` at `dir` (root only); unmounted when the test ends. False when it cannot. */
function mountTmpfs(t: Test, dir: string, megabytes: number): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return false;
  }
  t.teardown(() => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }));
  return true;
}

/** Writes a file until the disk is full; returns its path. */
function fillDisk(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return file;
}

const readiness = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json() };
};

t.test(
  "disk faults - the store's disk fills up: nothing acked unstored, 503 with the reason, resumes when freed",
  async (t) => {
    const dir = tempDir(t, 'disk-full');
    const storage = path.join(dir, 'store');
    if (process.getuid?.() !== 0 || !mountTmpfs(t, storage, 32)) {
      t.skip('mounting a small tmpfs for the store needs root');
      return;
    }
    const nats = await startNats(t);
    const receiver = await startReceiver(t);
    const file = await writeConfig(dir, {
      nats: { servers: [nats.url] },
      storage: { path: storage },
      eventTypes: [{ name: 'company.created' }],
      consumers: [{ id: 'c', url: receiver.url }],
    });
    const daemon = await startDaemon(t, file);
    const nc = await natsClient(t, nats.url);
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const publish = (ids: string[]) =>
      Promise.all(
        ids.map((id) =>
          js.publish('events.company.created', JSON.stringify({ id, payload: { pad: 'x'.repeat(500) } })),
        ),
      );
    const before = Array.from({ length: 100 }, (_, i) => `before-${i}`);
    const during = Array.from({ length: 200 }, (_, i) => `during-${i}`);
    await publish(before);
    await receiver.waitFor(100, 30_000);

    const filler = fillDisk(storage);
    await publish(during);
    const full = await eventually(async () => {
      const answer = await readiness(daemon.url);
      return answer.status === 503 ? answer.body : undefined;
    });
    t.equal(full.checks.store, false, '/readyz answers 503');
    t.match(full.problems.store, /No space left on device/, 'and says why');
    t.match(full.problems.store, storage, 'naming the path');
    const said = (msg: string) => daemon.logs().some((line) => line.msg === msg);
    t.ok(said('the store cannot be written: ingest and delivery wait, retrying every 2 s'), 'a clear log line says so');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const info = await jsm.consumers.info('HOOKS_EVENTS', 'hooksd');
    t.ok(info.num_pending + info.num_ack_pending >= 200, 'no event that could not be stored was acked');
    t.notOk(
      receiver.received.some((r) => eventIdOf(r)?.startsWith('during-')),
      'nor delivered',
    );
    t.equal((await fetch(`${daemon.url}/healthz`)).status, 200, 'hooksd is still up');

    rmSync(filler);
    await eventually(
      async () => ((await readiness(daemon.url)).status === 200 ? true : undefined),
      60_000,
      'ready again',
    );
    t.ok(said('the store can be written again: ingest and delivery resume'), 'and when it is over');
    await eventually(
      () => {
        const seen = new Set(receiver.received.map(eventIdOf));
        return [...before, ...during].every((id) => seen.has(id)) ? true : undefined;
      },
      60_000,
      'every event delivered',
    );
    t.equal(
      new Set(receiver.received.map(eventIdOf)).size,
      300,
      'all 300 events arrived once space was freed: none lost',
    );
  },
);

t.test(
  'disk faults - a store another hooksd holds, or a damaged one, stops start-up with one clear error',
  async (t) => {
    const nats = await startNats(t);
    const dir = tempDir(t, 'store-open');
    const storage = path.join(dir, 'store');
    const first = await writeConfig(path.join(dir), { nats: { servers: [nats.url] }, storage: { path: storage } });
    await startDaemon(t, first);
    const otherDir = tempDir(t, 'store-open-2');
    const second = await writeConfig(otherDir, { nats: { servers: [nats.url] }, storage: { path: storage } });
    const held = await startDaemon(t, second).then(
      () => undefined,
      (error: Error) => error.message,
    );
    t.match(held, `HOOKSD_STORAGE_UNAVAILABLE: cannot open the store at ${storage}: another process (another hooksd?)`);

    const damagedDir = tempDir(t, 'store-damaged');
    const damaged = path.join(damagedDir, 'store');
    mkdirSync(damaged);
    writeFileSync(path.join(damaged, 'CURRENT'), 'garbage');
    const file = await writeConfig(damagedDir, { nats: { servers: [nats.url] }, storage: { path: damaged } });
    const broken = await startDaemon(t, file).then(
      () => undefined,
      (error: Error) => error.message,
    );
    t.match(broken, `cannot open the store at ${damaged}: its files are damaged: restore storage.path from a backup`);
  },
);
