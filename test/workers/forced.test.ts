import t from 'tap';
import { startInProcess } from '../helpers/in-process.js';
import './force-workers.js';

t.test('delivery workers - the suites of this folder run hooksd with delivery.workers: 2', async (t) => {
  const { logs } = await startInProcess(t, { eventTypes: [{ name: 'company.created' }] });
  const line = logs().find((entry) => entry.msg === 'requests are sent from worker threads (delivery.workers)');
  t.equal(line?.workers, 2, 'hooksd started two delivery workers');
});

t.test('delivery workers - a reload that changes delivery.workers says it applies after a restart', async (t) => {
  const { logs, reconfigure } = await startInProcess(t, { eventTypes: [{ name: 'company.created' }] });
  await reconfigure((config) => ({ ...config, delivery: { ...config.delivery, workers: 1 } }));
  const warning = logs().find((entry) => entry.msg === 'these sections changed and apply after a restart');
  t.same(warning?.sections, ['delivery.workers']);
  await reconfigure((config) => ({ ...config, delivery: { ...config.delivery, timeout: '5s' } }));
  const warnings = logs().filter((entry) => entry.msg === 'these sections changed and apply after a restart');
  t.equal(warnings.length, 1, 'a reload that keeps delivery.workers says nothing of it');
});
