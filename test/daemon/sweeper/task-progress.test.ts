import t from 'tap';
import type { TaskPartRecord, TaskRecord } from '../../../daemon/store/records.js';
import { progressOf } from '../../../daemon/sweeper/task-progress.js';

const task = (fields: Partial<TaskRecord> = {}): TaskRecord => ({
  id: 'task_1',
  kind: 'recover',
  consumerId: 'orders',
  since: 1000,
  until: null,
  status: 'running',
  createdAt: 2000,
  updatedAt: 2000,
  finishedAt: null,
  position: null,
  pending: [],
  examined: 0,
  sent: 0,
  error: null,
  instance: 'a',
  instances: ['a', 'b'],
  ...fields,
});

const part = (instance: string, fields: Partial<TaskPartRecord> = {}): TaskPartRecord => ({
  taskId: 'task_1',
  instance,
  status: 'running',
  startedAt: 2100,
  updatedAt: 2200,
  finishedAt: null,
  position: null,
  pending: [],
  examined: 0,
  sent: 0,
  error: null,
  ...fields,
});

t.test('task progress - sums the parts; running while a part runs or is waited for', async (t) => {
  const live = new Set(['a', 'b']);
  const waiting = progressOf(task(), [part('a', { status: 'done', examined: 4, sent: 3, finishedAt: 2500 })], live);
  t.match(waiting, { status: 'running', examined: 4, sent: 3, finishedAt: null, updatedAt: 2200 });
  t.match(
    waiting.parts,
    [
      { instance: 'a', status: 'done', live: true, examined: 4, sent: 3 },
      { instance: 'b', status: 'waiting', live: true, startedAt: null, examined: 0, sent: 0 },
    ],
    'an expected instance with no part saved yet is waiting',
  );

  const done = progressOf(
    task(),
    [
      part('b', { status: 'done', examined: 6, sent: 2, finishedAt: 2600, updatedAt: 2600 }),
      part('a', { status: 'done', examined: 4, sent: 3, finishedAt: 2500, updatedAt: 2500 }),
      part('c', { status: 'done', examined: 1, sent: 1, finishedAt: 2550, updatedAt: 2550 }),
    ],
    new Set(['a', 'c']),
  );
  t.match(done, { status: 'done', examined: 11, sent: 6, finishedAt: 2600, updatedAt: 2600, error: null });
  t.same(
    done.parts.map((p) => [p.instance, p.live]),
    [
      ['a', true],
      ['b', false],
      ['c', true],
    ],
    'every part, by instance id: one that joined too; whether each instance is alive',
  );

  const failed = progressOf(
    task(),
    [
      part('a', { status: 'failed', error: 'consumer "orders" no longer exists', finishedAt: 2300 }),
      part('b', { status: 'running' }),
    ],
    live,
  );
  t.equal(failed.status, 'running', 'a failed part does not end the task while another runs');
  const ended = progressOf(
    task(),
    [
      part('a', { status: 'failed', error: 'consumer "orders" no longer exists', finishedAt: 2300 }),
      part('b', { status: 'done', finishedAt: 2400 }),
    ],
    live,
  );
  t.match(ended, { status: 'failed', error: 'a: consumer "orders" no longer exists', finishedAt: 2400 });
});

t.test('task progress - a task made before parts is its own part, on the instance that made it', async (t) => {
  const old = task({ instances: undefined, status: 'done', examined: 9, sent: 5, finishedAt: 3000, updatedAt: 3000 });
  const progress = progressOf(old, [], new Set(['a']));
  t.match(progress, { status: 'done', examined: 9, sent: 5, finishedAt: 3000 });
  t.match(progress.parts, [{ instance: 'a', status: 'done', examined: 9, sent: 5 }]);
  t.equal(progress.parts.length, 1);
  const resumed = progressOf({ ...old, status: 'running', finishedAt: null }, [part('a', { examined: 12 })], new Set());
  t.match(resumed, { status: 'running', examined: 12 }, 'once resumed, its part replaces the record');
});
