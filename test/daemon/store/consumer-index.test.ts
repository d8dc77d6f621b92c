import t from 'tap';
import { message, openStore } from './store-records.js';

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
