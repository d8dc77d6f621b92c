import t, { type Test } from 'tap';
import { Keyspace } from '../../../daemon/store/keyspace.js';
import type { MessageRecord } from '../../../daemon/store/records.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';
import { fanout, message, openStore } from './store-records.js';

/**
 * A store stopped with a fan-out record of two messages of event e1 (consumers a and b) in which
 * a's message was delivered, as a crash leaves it (the record is not written out).
 */
async function stopAfterOneOfTwo(t: Test) {
  const dir = tempDir(t, 'store');
  const store = new Store(dir);
  await store.start();
  const { event, messages } = fanout('e1', ['a', 'b']);
  await store.write(store.eventOps(event, messages), true);
  const done = { ...messages[0], status: 'success' as const, attempts: 1, nextAttemptAt: null };
  await store.write(store.messageUpdateOps(messages[0], done));
  await store.stop();
  return { dir, messages, done };
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
  const { dir, messages, done } = await stopAfterOneOfTwo(t);

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
    const { dir, messages } = await stopAfterOneOfTwo(t);
    // No counts and no index by consumer and status: both are made again when the store opens.
    const raw = new Keyspace(dir);
    await raw.messagesByConsumerStatus.clear();
    await raw.counters.clear();
    await raw.db.close();

    const store = new Store(dir);
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

t.test('store - a batch tells how many messages entered each status, whatever left it in the same batch', async (t) => {
  const store = await openStore(t);
  const first = fanout('e1', ['a', 'b']);
  await store.write(store.eventOps(first.event, first.messages), true);
  const told: Map<string, number>[] = [];
  store.onStatusCounts = (changes) => told.push(new Map(changes));
  // One batch: the next event's fan-out record enters two messages in `sending` while the
  // first event's two leave it for `success`; the counts' net change of `sending` is 0.
  const second = fanout('e2', ['a', 'b']);
  const done = (m: MessageRecord): MessageRecord => ({ ...m, status: 'success', attempts: 1, nextAttemptAt: null });
  await store.write([
    ...store.eventOps(second.event, second.messages),
    ...first.messages.flatMap((m) => store.messageUpdateOps(m, done(m))),
  ]);
  t.same(
    told,
    [
      new Map([
        ['sending', 2],
        ['success', 2],
      ]),
    ],
    'two entered sending, two entered success',
  );
  t.equal(store.countStatus('sending'), 2, 'while the count of sending stays 2');
  t.equal(store.countStatus('success'), 2);
});
