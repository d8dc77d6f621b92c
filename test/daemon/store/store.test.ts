import t from 'tap';
import { sortableId } from '../../../daemon/store/ids.js';
import type { MessageRecord } from '../../../daemon/store/records.js';
import { Keyspace } from '../../../daemon/store/keyspace.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';

async function openStore(t: Parameters<typeof tempDir>[0]): Promise<Store> {
  const store = new Store(tempDir(t, 'store'));
  await store.start();
  t.teardown(() => store.stop());
  return store;
}

function message(consumerId: string, createdAt: number, overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: sortableId('msg_', createdAt),
    eventId: `evt-${createdAt}`,
    consumerId,
    eventType: 'connection.created',
    status: 'sending',
    createdAt,
    updatedAt: createdAt,
    attempts: 0,
    nextAttemptAt: createdAt,
    ...overrides,
  };
}

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
function fanout(eventId: string, consumers: string[], now = Date.now()) {
  const event = {
    id: eventId,
    eventType: 'connection.created',
    generatedDate: new Date(now).toISOString(),
    receivedAt: now,
    seq: sortableId('', now),
    subject: 'events.connection.created',
    body: JSON.stringify({ id: eventId, payload: {} }),
  };
  const messages = consumers.map((c) => message(c, now, { eventId }));
  return { event, messages };
}

t.test(
  'store - a fan-out record: one write for the event and all its messages, which read and list like any other',
  async (t) => {
    const store = await openStore(t);
    const older = message('a', Date.now() - 1000, { eventId: 'e0' });
    await store.write(store.newMessageOps(older));
    const { event, messages } = fanout('e1', ['a', 'b', 'c']);
    const before = store.operations;
    const ops = store.eventOps(event, messages);
    t.equal(ops.length, 4, 'the event, its two indexes and the fan-out record: nothing per message');
    await store.write(ops, true);
    t.equal(store.operations - before, 8, 'and the status counts, in all and of each of its three consumers');
    t.equal(store.countStatus('sending'), 4, 'the fan-out counts as sending');
    t.same(
      ['a', 'b', 'c'].map((c) => store.countConsumerStatus(c, 'sending')),
      [2, 1, 1],
      "and as sending for each message's consumer",
    );
    t.same(await store.getMessage(messages[1].id), messages[1], 'read by id');
    t.same(
      (await store.getMessages([messages[2].id, older.id, 'msg_none'])).map((m) => m?.id),
      [messages[2].id, older.id, undefined],
    );
    const ids = async (query: Omit<Parameters<typeof store.lists.messages>[0], 'limit'>, limit = 10) =>
      (await store.lists.messages({ limit, ...query })).data.map((m) => m.id);
    const newestFirst = [...messages].reverse().map((m) => m.id);
    t.same(await ids({}), [...newestFirst, older.id], 'all messages, newest first');
    t.same(await ids({ consumerId: 'a' }), [messages[0].id, older.id], 'by consumer');
    t.same(await ids({ status: 'sending' }), [...newestFirst, older.id], 'by status');
    t.same(await ids({ eventType: 'connection.created', consumerId: 'b' }), [messages[1].id], 'by type and consumer');
    t.same(await ids({ consumerId: 'a', status: 'sending' }), [messages[0].id, older.id], 'by consumer and status');
    t.same(await ids({ consumerId: 'a', status: 'success' }), [], 'not in another status');
    t.same(await ids({ eventId: 'e1' }), newestFirst, 'by event');
    t.same(await ids({ since: event.receivedAt }), newestFirst, 'by time');
    t.same(await ids({ until: event.receivedAt }), [older.id]);
    // Pages of two walk the fan-out and the indexed message with no gap and no repeat.
    const first = await store.lists.messages({ limit: 2 });
    t.same(
      first.data.map((m) => m.id),
      newestFirst.slice(0, 2),
    );
    const second = await store.lists.messages({ limit: 2, cursor: first.nextCursor! });
    t.same(
      second.data.map((m) => m.id),
      [newestFirst[2], older.id],
    );

    // The first attempt's outcome writes each message's record and index entries: four operations.
    const done = (m: MessageRecord): MessageRecord => ({ ...m, status: 'success', attempts: 1, nextAttemptAt: null });
    const update = store.messageUpdateOps(messages[0], done(messages[0]));
    t.equal(update.length, 4, 'record, status, consumer and status, type entries; no due entry');
    await store.write(update);
    t.same(await store.getMessage(messages[0].id), done(messages[0]));
    t.equal(store.countStatus('sending'), 3);
    t.equal(store.countStatus('success'), 1);
    t.same([store.countConsumerStatus('a', 'sending'), store.countConsumerStatus('a', 'success')], [1, 1]);
    t.same(await ids({ status: 'success' }), [messages[0].id]);
    t.same(
      await ids({ consumerId: 'a', status: 'success' }),
      [messages[0].id],
      'through the consumer and status index',
    );
    t.same(await ids({ consumerId: 'a', status: 'sending' }), [older.id]);
    // The last one's write deletes the fan-out record in the same batch.
    await store.write(messages.slice(1).flatMap((m) => store.messageUpdateOps(m, done(m))));
    t.equal(store.fanouts.size, 0, 'no message is left in a fan-out record');
    t.same(await ids({ eventId: 'e1' }), newestFirst, "the event's record still lists them");
    t.same(await ids({ status: 'success' }), newestFirst);
    t.same(await ids({ status: 'sending' }), [older.id]);
    t.same(
      ['a', 'b', 'c'].flatMap((c) => [
        store.countConsumerStatus(c, 'sending'),
        store.countConsumerStatus(c, 'success'),
      ]),
      [1, 1, 0, 1, 0, 1],
      'counted per consumer as written',
    );
    t.same(await ids({ consumerId: 'c', status: 'success' }), [messages[2].id]);
    t.same([...(await store.scans.consumersOfEvent('e1'))].sort(), ['a', 'b', 'c']);
    t.ok(await store.scans.eventHasMessages('e1'));
  },
);

t.test('store - what a crash leaves in a fan-out record goes into the due index when the store opens', async (t) => {
  const dir = tempDir(t, 'store');
  const store = new Store(dir);
  await store.start();
  const { event, messages } = fanout('e1', ['a', 'b']);
  await store.write(store.eventOps(event, messages), true);
  const done = { ...messages[0], status: 'success' as const, attempts: 1, nextAttemptAt: null };
  await store.write(store.messageUpdateOps(messages[0], done));
  await store.stop();

  const reopened = new Store(dir);
  await reopened.start();
  t.teardown(() => reopened.stop());
  t.equal(reopened.fanouts.size, 0, 'nothing is held in memory after the restart');
  t.same(
    (await reopened.due.entries('b', Date.now(), 10)).map((e) => e.message),
    [messages[1]],
    'the message that had no attempt yet is due',
  );
  t.same(await reopened.due.entries('a', Date.now(), 10), [], 'the delivered one is not');
  t.same(await reopened.getMessage(messages[0].id), done);
  t.equal(reopened.countStatus('sending'), 1);
  t.equal(reopened.countStatus('success'), 1);
  t.same(
    ['a', 'b'].flatMap((c) => [reopened.countConsumerStatus(c, 'sending'), reopened.countConsumerStatus(c, 'success')]),
    [0, 1, 1, 0],
    'and per consumer',
  );
  t.same(
    (await reopened.lists.messages({ limit: 10, consumerId: 'b', status: 'sending' })).data,
    [messages[1]],
    'listed by consumer and status from its own entries',
  );
  t.same(
    (await reopened.lists.messages({ limit: 10, eventId: 'e1' })).data.map((m) => m.id),
    [messages[1].id, messages[0].id],
    'the event lists both',
  );
  t.same((await reopened.lists.messages({ limit: 10, status: 'sending' })).data, [messages[1]]);
});

t.test(
  'store - counted from scratch, the messages of a fan-out record left by a crash are sending until written out',
  async (t) => {
    const dir = tempDir(t, 'store');
    let store = new Store(dir);
    await store.start();
    const { event, messages } = fanout('e1', ['a', 'b']);
    await store.write(store.eventOps(event, messages), true);
    const done = { ...messages[0], status: 'success' as const, attempts: 1, nextAttemptAt: null };
    await store.write(store.messageUpdateOps(messages[0], done));
    await store.stop();
    // No counts and no index by consumer and status: both are made again when the store opens.
    const raw = new Keyspace(dir);
    await raw.messagesByConsumerStatus.clear();
    await raw.counters.clear();
    await raw.db.close();

    store = new Store(dir);
    t.teardown(() => store.stop());
    t.equal(await store.start(), true, 'counted and indexed once');
    t.same([store.countStatus('sending'), store.countStatus('success')], [1, 1]);
    t.same(
      ['a', 'b'].flatMap((c) => [store.countConsumerStatus(c, 'sending'), store.countConsumerStatus(c, 'success')]),
      [0, 1, 1, 0],
      'per consumer',
    );
    const ids = async (consumerId: string, status: MessageRecord['status']) =>
      (await store.lists.messages({ limit: 10, consumerId, status })).data.map((m) => m.id);
    t.same(await ids('b', 'sending'), [messages[1].id], 'the one left in the fan-out record, written out');
    t.same(await ids('a', 'success'), [messages[0].id]);
  },
);

t.test(
  'store - the index by consumer and status gives full pages however rare the pair is, and follows every change',
  async (t) => {
    const store = await openStore(t);
    const base = Date.now() - 2_000_000;
    // 2,000 messages of three consumers; one in 40 of "c1" fails: far fewer than a page's scan would meet.
    const all = Array.from({ length: 2000 }, (_, i) =>
      message(`c${i % 3}`, base + i * 100, {
        status: i % 3 === 1 && i % 40 === 1 ? 'failure' : 'success',
        nextAttemptAt: null,
        eventType: i % 2 ? 'order.placed' : 'order.paid',
      }),
    );
    await store.write(all.flatMap((m) => store.newMessageOps(m)));
    const failed = all.filter((m) => m.consumerId === 'c1' && m.status === 'failure');
    t.ok(failed.length > 10 && failed.length < 30, `${failed.length} failed messages of c1`);

    const first = await store.lists.messages({ limit: 10, consumerId: 'c1', status: 'failure' });
    t.same(
      first.data.map((m) => m.id),
      failed
        .slice(-10)
        .map((m) => m.id)
        .reverse(),
      'a full first page, newest first',
    );
    const walked = [...first.data];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const next = await store.lists.messages({ limit: 10, consumerId: 'c1', status: 'failure', cursor });
      walked.push(...next.data);
      cursor = next.nextCursor;
    }
    t.same(
      walked.map((m) => m.id),
      failed.map((m) => m.id).reverse(),
      'the walk gives each once',
    );
    const between = await store.lists.messages({
      limit: 50,
      consumerId: 'c1',
      status: 'failure',
      since: failed[2].createdAt,
      until: failed[5].createdAt,
    });
    t.same(
      between.data.map((m) => m.id),
      [failed[4].id, failed[3].id, failed[2].id],
      'a time range within it',
    );
    const paidFailures = await store.lists.messages({
      limit: 50,
      consumerId: 'c1',
      status: 'failure',
      eventType: 'order.paid',
    });
    t.same(
      paidFailures.data.map((m) => m.id),
      failed
        .filter((m) => m.eventType === 'order.paid')
        .map((m) => m.id)
        .reverse(),
      'with an event type too',
    );
    const ofEvent = await store.lists.messages({ limit: 50, eventId: failed[0].eventId });
    t.same(
      ofEvent.data.map((m) => m.id),
      [failed[0].id],
      'by event id',
    );

    t.same(
      ['success', 'failure'].map((s) => store.countConsumerStatus('c1', s as MessageRecord['status'])),
      [all.filter((m) => m.consumerId === 'c1').length - failed.length, failed.length],
      'counted per consumer',
    );
    // A status change moves the entry; a deleted message leaves the index.
    const resent = failed[failed.length - 1];
    await store.write(store.messageUpdateOps(resent, { ...resent, status: 'success' }));
    await store.write(await store.messageDeleteOps(failed[0]));
    const after = await store.lists.messages({ limit: 50, consumerId: 'c1', status: 'failure' });
    t.same(
      after.data.map((m) => m.id),
      failed
        .slice(1, -1)
        .map((m) => m.id)
        .reverse(),
      'moved and removed',
    );
    t.equal(store.countConsumerStatus('c1', 'failure'), failed.length - 2);
    t.equal(store.countConsumerStatus('nobody', 'failure'), 0, 'a consumer without messages counts 0');
    await t.rejects(
      store.lists.messages({ limit: 10, consumerId: 'c2', status: 'failure', cursor: first.nextCursor! }),
      { code: 'HOOKSD_INVALID_CURSOR' },
      "another pair's cursor is refused",
    );
  },
);

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
