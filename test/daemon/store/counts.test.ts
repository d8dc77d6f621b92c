import t from 'tap';
import { Keyspace } from '../../../daemon/store/keyspace.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';
import { message, openStore } from './store-records.js';

t.test(
  'store - status counts come from the writes, survive a restart, and an older store is counted once',
  async (t) => {
    const dir = tempDir(t, 'store');
    let store = new Store(dir);
    t.equal(await store.start(), true, 'a new store has no counts yet: counted (nothing) once');
    const now = Date.now();
    const messages = Array.from({ length: 30 }, (_, i) => message(i % 2 ? 'a' : 'b', now + i));
    await store.write(messages.flatMap((m) => store.newMessageOps(m)));
    const done = messages.slice(0, 12);
    await store.write(done.flatMap((m) => store.messageUpdateOps(m, { ...m, status: 'success', nextAttemptAt: null })));
    t.same([store.countStatus('sending'), store.countStatus('success')], [18, 12], 'counted as written');
    await store.stop();

    store = new Store(dir);
    t.equal(await store.start(), false, 'reopened: the counts are read, nothing is scanned');
    t.same([store.countStatus('sending'), store.countStatus('success')], [18, 12], 'the same after a restart');
    await store.stop();

    // A store from before the counts existed.
    const raw = new Keyspace(dir);
    await raw.counters.del('statusCounts');
    await raw.db.close();
    store = new Store(dir);
    t.teardown(() => store.stop());
    t.equal(await store.start(), true, 'a store without counts is counted once');
    t.same([store.countStatus('sending'), store.countStatus('success'), store.countStatus('failure')], [18, 12, 0]);
  },
);

t.test('store - counts the LevelDB operations it writes, batch by batch', async (t) => {
  const store = await openStore(t);
  const before = store.operations;
  const m = message('a', Date.now());
  const ops = store.newMessageOps(m);
  await store.write(ops);
  // The status counts, in all and of each consumer concerned, are written with every batch that moves status entries.
  t.equal(store.operations - before, ops.length + 2, "the message's operations, the counts and its consumer's counts");
  // The first of three writes goes alone; the two that arrive while it is written are merged.
  const three = ['b', 'c', 'd'].map((consumer) => store.write(store.newMessageOps(message(consumer, Date.now()))));
  await Promise.all(three);
  t.equal(
    store.operations - before,
    // a, then b alone (counts and b's), then c and d merged (counts, c's and d's).
    4 * ops.length + 2 + 2 + 3,
    'writes merged into one batch share its counts; each consumer has its own',
  );
});

/** An event received now whose messages for `consumers` are due at once: its fan-out. */
t.test(
  'store - counts per consumer survive a restart, and a store from before the index gets it built once',
  async (t) => {
    const dir = tempDir(t, 'store');
    let store = new Store(dir);
    await store.start();
    const now = Date.now();
    const messages = Array.from({ length: 2500 }, (_, i) => message(`c${i % 4}`, now - 10_000 + i));
    await store.write(messages.flatMap((m) => store.newMessageOps(m)));
    const done = messages.filter((_, i) => i % 5 === 0);
    await store.write(done.flatMap((m) => store.messageUpdateOps(m, { ...m, status: 'success', nextAttemptAt: null })));
    const counts = () =>
      ['c0', 'c1', 'c2', 'c3'].map((c) => [
        store.countConsumerStatus(c, 'sending'),
        store.countConsumerStatus(c, 'success'),
      ]);
    const expected = ['c0', 'c1', 'c2', 'c3'].map((c) => {
      const mine = messages.filter((m) => m.consumerId === c);
      const succeeded = done.filter((m) => m.consumerId === c).length;
      return [mine.length - succeeded, succeeded];
    });
    t.same(counts(), expected, 'counted as written');
    await store.stop();

    store = new Store(dir);
    t.equal(await store.start(), false, 'reopened: read, nothing counted');
    t.same(counts(), expected, 'the same after a restart');
    await store.stop();

    // A store from before the index by consumer and status: no index, no counts per consumer.
    const raw = new Keyspace(dir);
    await raw.messagesByConsumerStatus.clear();
    for await (const key of raw.counters.keys()) if (key !== 'statusCounts') await raw.counters.del(key);
    await raw.db.close();
    store = new Store(dir);
    t.teardown(() => store.stop());
    t.equal(await store.start(), true, 'indexed and counted once');
    t.same(counts(), expected, 'counted from the messages');
    const page = await store.lists.messages({ limit: 5, consumerId: 'c3', status: 'success' });
    t.same(
      page.data.map((m) => m.id),
      done
        .filter((m) => m.consumerId === 'c3')
        .slice(-5)
        .map((m) => m.id)
        .reverse(),
      'listed through the built index',
    );
  },
);
