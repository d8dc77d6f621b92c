import t from 'tap';
import { eventually, json } from '../helpers/hooksd.js';
import { startInProcess } from '../helpers/in-process.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

const N = 12;
const RATE = 1;

t.test(
  'group tasks - an instance that joins while a task runs runs its part too; one that joins after it ended does not',
  async (t) => {
    const nats = await startNats(t);
    let failing = true;
    const receiver = await startReceiver(t, () => ({ status: failing ? 500 : 200 }));
    // One durable for all, as a group reads the stream: each event goes to one instance.
    const start = (id: string) =>
      startInProcess(t, {
        instance: { id },
        nats: { servers: [nats.url], durable: 'hooksd' },
        eventTypes: [{ name: 'order.placed' }],
        consumers: [{ id: 'slow', url: receiver.url, retrySchedule: ['0s'], rateLimit: RATE, concurrency: 1 }],
      });
    const a = await start('a');
    const since = new Date(Date.now() - 1000).toISOString();
    for (let n = 0; n < N; n++)
      t.equal((await a.api('/v1/events', json('POST', { eventType: 'order.placed', payload: { n } }))).status, 202);
    await eventually(async () => {
      const { body } = await a.api('/v1/messages?consumerId=slow&status=failure&limit=100');
      return body.data.length === N ? true : undefined;
    }, 30_000);
    failing = false;

    const made = await a.api('/v1/consumers/slow/recover', json('POST', { since }));
    t.equal(made.status, 202);
    t.same(
      made.body.parts.map((p: { instance: string }) => p.instance),
      ['a'],
      'made by a lone instance: its part only',
    );
    // Paced at 1/s, the task runs for about 12 s: b starts meanwhile.
    const b = await start('b');
    const running = await b.api(`/v1/tasks/${made.body.id}`);
    t.equal(running.body.status, 'running', 'b joined while the task runs');

    const done = await eventually(
      async () => {
        const { body } = await a.api(`/v1/tasks/${made.body.id}`);
        return body.status === 'running' ? undefined : body;
      },
      60_000,
      'the task ends',
    );
    t.match(done, { status: 'done', examined: N, sent: N, error: null });
    t.match(
      done.parts,
      [
        { instance: 'a', status: 'done', live: true, examined: N, sent: N },
        { instance: 'b', status: 'done', live: true, examined: 0, sent: 0 },
      ],
      'b ran its part over its own store, which holds none of the failed messages',
    );
    await receiver.waitFor(2 * N);

    const c = await start('c');
    // A later change to the control bucket, seen by c: its watch has gone past the task's entries by then.
    t.equal((await a.api('/v1/consumers/slow/disable', json('POST'))).status, 200);
    await eventually(async () => ((await c.api('/v1/consumers/slow')).body.disabled ? true : undefined), 30_000);
    const after = await c.api(`/v1/tasks/${made.body.id}`);
    t.same(
      after.body.parts.map((p: { instance: string }) => p.instance),
      ['a', 'b'],
      'c, started after the task ended, runs no part of it',
    );
    t.equal(after.body.status, 'done');
    t.equal(receiver.received.length, 2 * N, 'each failed message was sent once more, nothing else');
  },
);
