import t from 'tap';
import { startInProcess } from '../helpers/in-process.js';
import './force-workers.js';

t.test('delivery workers - the suites of this folder run hooksd with delivery.workers: 2', async (t) => {
  const { logs } = await startInProcess(t, { eventTypes: [{ name: 'company.created' }] });
  const line = logs().find((entry) => entry.msg === 'requests are sent from worker threads (delivery.workers)');
  t.equal(line?.workers, 2, 'hooksd started two delivery workers');
});
