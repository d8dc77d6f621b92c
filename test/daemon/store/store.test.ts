import t from 'tap';
import { Keyspace } from '../../../daemon/store/keyspace.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';
import { message, openStore } from './store-records.js';

t.test('store - walking the cursor while new messages arrive gives no duplicates and no gaps', async (t) => {
  const store = await openStore(t);
  const base = Date.now() - 600_000;
  const existing = Array.from({ length: 600 }, (_, i) => message(i % 3 === 0 ? 'a' : 'b', base + i * 10));
  await store.write(existing.flatMap((m) => store.newMessageOps(m)));

  const seen: string[] = [];
  let cursor: string | undefined;
  let added = 0;
  do {
    const page = await store.lists.messages({ limit: 70, cursor });
    seen.push(...page.data.map((m) => m.id));
    cursor = page.nextCursor ?? undefined;
    const fresh = message('a', Date.now());
    await store.write(store.newMessageOps(fresh));
    added += 1;
  } while (cursor);
  t.equal(new Set(seen).size, seen.length, 'no duplicates');
  t.same(seen, existing.map((m) => m.id).reverse(), 'every message that existed at the start, newest first');
  t.ok(added > 5);
});

t.test(
  'store - lists by consumer, status and time through indexes, and moves the status index on update',
  async (t) => {
    const store = await openStore(t);
    const base = Date.now() - 100_000;
    const messages = Array.from({ length: 30 }, (_, i) => message(i % 2 === 0 ? 'even' : 'odd', base + i * 1000));
    await store.write(messages.flatMap((m) => store.newMessageOps(m)));
    const byConsumer = await store.lists.messages({ limit: 50, consumerId: 'odd' });
    t.equal(byConsumer.data.length, 15);
    t.ok(byConsumer.data.every((m) => m.consumerId === 'odd'));
    t.equal(byConsumer.nextCursor, null);

    const done = { ...messages[3], status: 'success' as const, nextAttemptAt: null };
    await store.write(store.messageUpdateOps(messages[3], done));
    t.same(
      (await store.lists.messages({ limit: 50, status: 'success' })).data.map((m) => m.id),
      [done.id],
    );
    t.equal(
      (await store.lists.messages({ limit: 50, status: 'sending' })).data.length,
      29,
      'the old status entry is gone',
    );
    t.same(
      (await store.lists.messages({ limit: 50, status: 'success', consumerId: 'even' })).data.length,
      0,
      'filters combine',
    );

    const window = await store.lists.messages({ limit: 50, since: base + 10_000, until: base + 15_000 });
    t.same(
      window.data.map((m) => m.createdAt),
      [14, 13, 12, 11, 10].map((i) => base + i * 1000),
      'since is inclusive, until exclusive',
    );
  },
);

t.test(
  "store - a consumer's messages in every status: its status ranges merged, newest first, by cursor and in steps",
  async (t) => {
    const store = await openStore(t);
    const base = Date.now() - 1_000_000;
    const statuses = ['sending', 'attempting', 'success', 'failure', 'cancelled', 'skipped'] as const;
    // Statuses in an order unrelated to time, so every page takes from several ranges.
    const all = Array.from({ length: 400 }, (_, i) =>
      message(i % 4 === 0 ? 'other' : 'a', base + i * 100, { status: statuses[(i * 7) % 6] }),
    );
    await store.write(all.flatMap((m) => store.newMessageOps(m)));
    const mine = all.filter((m) => m.consumerId === 'a');
    const newestFirst = mine.map((m) => m.id).reverse();

    const walked: string[] = [];
    let cursor: string | undefined;
    let moved = false;
    do {
      const page = await store.lists.messages({ limit: 7, consumerId: 'a', cursor });
      walked.push(...page.data.map((m) => m.id));
      cursor = page.nextCursor ?? undefined;
      if (!moved) {
        // A message changing status during the walk (from one range to another) is still met once.
        const last = page.data.at(-1) as MessageRecord;
        const next = mine[mine.findIndex((m) => m.id === last.id) - 1];
        const status = next.status === 'success' ? 'cancelled' : 'success';
        await store.write(store.messageUpdateOps(next, { ...next, status, nextAttemptAt: null }));
        moved = true;
      }
    } while (cursor);
    t.same(walked, newestFirst, 'every message of the consumer once, newest first');

    const window = await store.lists.messages({
      limit: 50,
      consumerId: 'a',
      since: mine[10].createdAt,
      until: mine[15].createdAt,
    });
    t.same(
      window.data.map((m) => m.id),
      mine
        .slice(10, 15)
        .map((m) => m.id)
        .reverse(),
      'a time range',
    );

    const stepped: string[] = [];
    let after: string | null = null;
    let more = true;
    while (more) {
      const step = await store.scans.consumerMessagesBetween(
        'a',
        { since: mine[20].createdAt, until: mine[120].createdAt },
        after,
        13,
      );
      stepped.push(...step.items.map((item) => item.message.id));
      t.ok(
        step.items.every((item) => item.key === 'a\x00' + item.message.id),
        'keys in the form of the index by consumer',
      );
      after = step.lastKey;
      more = step.more;
    }
    t.same(
      stepped,
      mine.slice(20, 121).map((m) => m.id),
      'the scan of bulk tasks: oldest first, in steps, until inclusive',
    );
  },
);

t.test('store - the due index yields, per consumer, only what is due, oldest first, and follows updates', async (t) => {
  const store = await openStore(t);
  const now = Date.now();
  const late = message('a', now - 5000, { nextAttemptAt: now - 1000 });
  const early = message('a', now - 4000, { nextAttemptAt: now - 3000 });
  const future = message('a', now - 3000, { nextAttemptAt: now + 60_000 });
  const other = message('b', now - 3000, { nextAttemptAt: now - 10_000 });
  const done = message('c', now - 3000, { nextAttemptAt: null, status: 'success' });
  await store.write([late, early, future, other, done].flatMap((m) => store.newMessageOps(m)));
  const consumers = [];
  for await (const id of store.due.consumers()) consumers.push(id);
  t.same(consumers, ['a', 'b'], 'each consumer with pending work, once');
  t.same(
    (await store.due.entries('a', now, 10)).map((d) => [d.message?.id, d.message?.nextAttemptAt]),
    [
      [early.id, now - 3000],
      [late.id, now - 1000],
    ],
  );
  t.same(
    (await store.due.entries('a', now, 1)).map((d) => d.message?.id),
    [early.id],
    'no more than asked for',
  );
  t.same(
    (await store.due.entries('b', now, 10)).map((d) => d.message?.consumerId),
    ['b'],
  );
  t.same((await store.due.entries('b', now, 10))[0].message, other, 'the entry comes with its message');
  await store.write(store.messageUpdateOps(early, { ...early, nextAttemptAt: null, status: 'success' }));
  t.same(
    (await store.due.entries('a', now + 120_000, 10)).map((d) => d.message?.id),
    [late.id, future.id],
  );
  const [first] = await store.due.entries('a', now + 120_000, 1);
  t.same(await store.due.keys('a', now + 120_000, 1), [first.key], 'keys reads the same entries, keys only');
});

t.test(
  'store - a due entry whose message is gone or due at another time comes back stale, and can be dropped',
  async (t) => {
    const dir = tempDir(t, 'store');
    let store = new Store(dir);
    await store.start();
    const now = Date.now();
    const gone = message('a', now - 5000, { nextAttemptAt: now - 2000 });
    const moved = message('a', now - 4000, { nextAttemptAt: now - 1000 });
    const kept = message('a', now - 3000, { nextAttemptAt: now - 500 });
    await store.write([gone, moved, kept].flatMap((m) => store.newMessageOps(m)));
    await store.stop();
    // Records changed behind the index's back, as a bug or a crash between two writes would leave them.
    const raw = new Keyspace(dir);
    await raw.messages.del(gone.id);
    await raw.messages.put(moved.id, { ...moved, nextAttemptAt: now + 60_000 });
    await raw.db.close();
    store = new Store(dir);
    await store.start();
    t.teardown(() => store.stop());
    const entries = await store.due.entries('a', now, 10);
    t.same(
      entries.map((e) => e.message?.id),
      [undefined, undefined, kept.id],
      'the missing and the rescheduled message are stale, the third is current',
    );
    await store.due.drop(entries.filter((e) => e.message === undefined).map((e) => e.key));
    t.same(
      (await store.due.entries('a', now, 10)).map((e) => e.message?.id),
      [kept.id],
      'only the current entry is left',
    );
  },
);

t.test('store - attempts list newest first; bad cursors are refused with a code', async (t) => {
  const store = await openStore(t);
  const m = message('a', Date.now());
  for (let attempt = 1; attempt <= 12; attempt++) {
    await store.write(
      store.attemptOps({
        messageId: m.id,
        attempt,
        trigger: 'scheduled',
        startedAt: attempt,
        durationMs: 1,
        timings: {},
        request: { method: 'POST', url: 'http://x', headers: {}, body: '' },
        outcome: 'failure',
      }),
    );
  }
  const page = await store.lists.attempts(m.id, { limit: 5 });
  t.same(
    page.data.map((a) => a.attempt),
    [12, 11, 10, 9, 8],
  );
  const next = await store.lists.attempts(m.id, { limit: 10, cursor: page.nextCursor! });
  t.same(
    next.data.map((a) => a.attempt),
    [7, 6, 5, 4, 3, 2, 1],
  );
  t.equal(next.nextCursor, null);
  await t.rejects(store.lists.attempts(m.id, { limit: 5, cursor: 'garbage!' }), { code: 'HOOKSD_INVALID_CURSOR' });
  await t.rejects(
    store.lists.messages({ limit: 5, consumerId: 'a', cursor: page.nextCursor! }),
    { code: 'HOOKSD_INVALID_CURSOR' },
    'a cursor of another list is refused',
  );
});

t.test('store - concurrent writes are merged into group commits', async (t) => {
  const store = await openStore(t);
  // onStatusCounts is told once per LevelDB batch, with the status entries that batch added.
  let batches = 0;
  let sending = 0;
  store.onStatusCounts = (changes) => {
    batches += 1;
    sending += changes.get('sending') ?? 0;
  };
  const writes = Array.from({ length: 200 }, (_, i) =>
    store.write(store.newMessageOps(message('a', Date.now() + i)), true),
  );
  await Promise.all(writes);
  t.equal(batches, 2, 'the first write goes alone; the 199 made while it was in progress go in one batch');
  t.equal(sending, 200, 'every write is in one of them');
  t.equal((await store.lists.messages({ limit: 250 })).data.length, 200);
});
