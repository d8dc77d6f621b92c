import t from 'tap';
import pino from 'pino';
import { sortableId } from '../../../daemon/store/ids.js';
import type { EventRecord, MessageRecord, TaskRecord } from '../../../daemon/store/records.js';
import { purgeOlderThan } from '../../../daemon/sweeper/retention.js';
import { Store } from '../../../daemon/store/store.js';
import { connect } from 'nats';
import { tempDir } from '../../helpers/hooksd.js';
import { startNats } from '../../helpers/nats.js';

t.test('retention - purges finished records past the cutoff and never pending work', async (t) => {
  const store = new Store(tempDir(t, 'retention'));
  await store.start();
  t.teardown(() => store.stop());
  // Tasks are in the control bucket, on a real nats-server.
  const nats = await startNats(t);
  const nc = await connect({ servers: nats.url });
  t.teardown(async () => {
    await store.control.stop();
    await nc.close();
  });
  const bucket = { bucket: 'retention', replicas: 1, failFast: true, stopping: () => false };
  await store.control.open(nc, bucket, pino({ level: 'silent' }));
  const now = Date.now();
  const day = 86_400_000;
  const event = (id: string, at: number): EventRecord => ({
    id,
    eventType: 'a.b',
    generatedDate: new Date(at).toISOString(),
    receivedAt: at,
    seq: sortableId('', at),
    subject: 'events.a.b',
    body: '{}',
  });
  const message = (eventId: string, at: number, pending: boolean): MessageRecord => ({
    id: sortableId('msg_', at),
    eventId,
    consumerId: 'c',
    eventType: 'a.b',
    status: pending ? 'attempting' : 'success',
    createdAt: at,
    updatedAt: at,
    attempts: 1,
    nextAttemptAt: pending ? now + 1000 : null,
  });
  const oldDone = message('old', now - 40 * day, false);
  const oldPending = message('old-pending', now - 40 * day, true);
  const fresh = message('fresh', now - day, false);
  await store.write([
    ...store.eventOps(event('old', now - 40 * day)),
    ...store.eventOps(event('old-pending', now - 40 * day)),
    ...store.eventOps(event('fresh', now - day)),
    ...[oldDone, oldPending, fresh].flatMap((m) => store.newMessageOps(m)),
    ...store.attemptOps({
      messageId: oldDone.id,
      attempt: 1,
      trigger: 'scheduled',
      startedAt: 0,
      durationMs: 1,
      timings: {},
      request: { method: 'POST', url: 'x', headers: {}, body: '' },
      outcome: 'success',
    }),
    ...store.deadLetterOps({
      id: sortableId('dlq_', now - 40 * day),
      receivedAt: now - 40 * day,
      subject: 's',
      reason: 'r',
      data: '',
      encoding: 'utf8',
      headers: {},
    }),
    ...store.deadLetterOps({
      id: sortableId('dlq_', now),
      receivedAt: now,
      subject: 's',
      reason: 'r',
      data: '',
      encoding: 'utf8',
      headers: {},
    }),
  ]);

  const task = (id: string, finishedAt: number | null): TaskRecord => ({
    id,
    kind: 'recover',
    consumerId: 'c',
    since: 0,
    until: null,
    status: finishedAt === null ? 'running' : 'done',
    createdAt: now - 50 * day,
    updatedAt: now,
    finishedAt,
    position: null,
    pending: [],
    examined: 0,
    sent: 0,
    error: null,
  });
  await store.control.putTask(task('task-old-done', now - 40 * day));
  await store.control.putTask(task('task-old-running', null));
  await store.control.putTask(task('task-recent', now - day));
  const counts = await purgeOlderThan(store, now - 30 * day, pino({ level: 'silent' }));
  t.same(counts, { messages: 1, events: 1, deadLetters: 1, tasks: 1 });
  t.same(
    store.control
      .tasks()
      .map((t) => t.id)
      .sort(),
    ['task-old-running', 'task-recent'],
    'a task finished before the cutoff is purged; a running one never',
  );
  t.equal(await store.getEvent('old'), undefined);
  t.equal(await store.getMessage(oldDone.id), undefined);
  t.same((await store.lists.attempts(oldDone.id, { limit: 10 })).data, [], 'its attempts are gone');
  t.ok(await store.getEvent('old-pending'), 'an event with a pending message stays');
  t.ok(await store.getMessage(oldPending.id), 'a pending message stays');
  t.ok(await store.getEvent('fresh'));
  t.equal(
    (await store.lists.messages({ limit: 10, status: 'success' })).data.length,
    1,
    'the status index lost the purged entry',
  );
  t.equal((await store.lists.deadLetters({ limit: 10 })).data.length, 1);
});
