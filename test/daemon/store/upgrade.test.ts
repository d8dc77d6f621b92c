import t from 'tap';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { sortableId } from '../../../daemon/store/ids.js';
import { Store } from '../../../daemon/store/store.js';
import { REPO, tempDir } from '../../helpers/hooksd.js';

/**
 * test/fixtures/store-0.2.0 was written by hooksd 0.2.0's store, before messages due at once
 * went into fan-out records: two events, four messages (delivered, failing with a retry due in
 * an hour, pending, failed for good) with their attempts, and a dead letter.
 */
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'store-0.2.0');
const BASE = Date.parse('2026-11-01T10:00:00.000Z');
// Message ids begin with their creation time (13 characters): enough to tell these four apart.
const [delivered, failing, pending, failed] = [0, 1, 2, 3].map((i) => sortableId('msg_', BASE + i).slice(0, 13));

t.test('upgrade - a store written by hooksd 0.2.0 opens, and lists, reads and sweeps as it did', async (t) => {
  const dir = tempDir(t, 'store');
  cpSync(FIXTURE, dir, { recursive: true });
  const store = new Store(dir);
  // Its status counts are read; the index by consumer and status (and its counts) is built once.
  t.equal(await store.start(), true, 'indexed by consumer and status once');
  t.teardown(() => store.stop());
  const ids = async (query: Omit<Parameters<typeof store.lists.messages>[0], 'limit'>) =>
    (await store.lists.messages({ limit: 10, ...query })).data.map((m) => m.id.slice(0, 13));
  t.same(await ids({}), [failed, pending, failing, delivered], 'every message, newest first');
  t.same(await ids({ consumerId: 'crm' }), [pending, delivered]);
  t.same(await ids({ status: 'failure' }), [failed]);
  t.same(await ids({ status: 'attempting' }), [failing]);
  t.same(await ids({ eventId: 'evt-2' }), [failed, pending]);
  t.same(await ids({ eventType: 'company.created', consumerId: 'shop' }), [failed, failing]);
  t.same(await ids({ since: BASE + 2 }), [failed, pending]);
  const page = await store.lists.messages({ limit: 3 });
  t.same(
    (await store.lists.messages({ limit: 3, cursor: page.nextCursor! })).data.map((m) => m.id.slice(0, 13)),
    [delivered],
    'cursors walk it',
  );
  const [failedId] = (await store.lists.messages({ limit: 1, status: 'failure' })).data.map((m) => m.id);
  t.equal((await store.lists.attempts(failedId, { limit: 10 })).data.length, 2, 'with its attempts');
  t.equal((await store.lists.events({ limit: 10 })).data.length, 2);
  t.equal((await store.lists.deadLetters({ limit: 10 })).data.length, 1);
  t.same(
    (await store.due.entries('crm', Date.now(), 10)).map((e) => e.message?.id.slice(0, 13)),
    [pending],
    'the pending message is due',
  );
  t.same(
    (await store.due.entries('shop', BASE + 3_600_000, 10)).map((e) => e.message?.id.slice(0, 13)),
    [failing],
    'the retry is due in an hour',
  );
  t.same(
    ['sending', 'attempting', 'success', 'failure'].map((s) => store.countStatus(s as 'sending')),
    [1, 1, 1, 1],
  );
  t.same(
    [store.countConsumerStatus('crm', 'sending'), store.countConsumerStatus('crm', 'success')],
    [1, 1],
    'counted per consumer',
  );
  t.same([store.countConsumerStatus('shop', 'attempting'), store.countConsumerStatus('shop', 'failure')], [1, 1]);
  t.same(await ids({ consumerId: 'shop', status: 'failure' }), [failed], 'listed by consumer and status');
  t.same([...(await store.scans.consumersOfEvent('evt-1'))].sort(), ['crm', 'shop']);

  // New events beside the old ones: a fan-out record, listed with what was there.
  const now = Date.now();
  const event = {
    id: 'evt-3',
    eventType: 'company.created',
    generatedDate: new Date(now).toISOString(),
    receivedAt: now,
    seq: sortableId('', now),
    subject: 'events.company.created',
    body: '{"id":"evt-3","payload":{}}',
  };
  const fresh = {
    id: sortableId('msg_', now),
    eventId: 'evt-3',
    consumerId: 'crm',
    eventType: 'company.created',
    status: 'sending' as const,
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    nextAttemptAt: now,
  };
  await store.write(store.eventOps(event, [fresh]), true);
  t.same(await ids({ consumerId: 'crm' }), [fresh.id.slice(0, 13), pending, delivered]);
  t.same(await ids({ consumerId: 'crm', status: 'sending' }), [fresh.id.slice(0, 13), pending]);
  t.equal(store.countStatus('sending'), 2);
  t.equal(store.countConsumerStatus('crm', 'sending'), 2);
  await store.stop();
  const reopened = new Store(dir);
  t.equal(await reopened.start(), false, 'opened again: nothing counted or built');
  t.teardown(() => reopened.stop());
  t.same(
    [reopened.countStatus('sending'), reopened.countConsumerStatus('crm', 'sending')],
    [2, 2],
    "the fan-out record's message is written out when the store opens, its counts unchanged",
  );
  t.same(
    (await reopened.lists.messages({ limit: 10, consumerId: 'crm', status: 'sending' })).data.map((m) =>
      m.id.slice(0, 13),
    ),
    [fresh.id.slice(0, 13), pending],
  );
});
