import t from 'tap';
import { startInProcess } from '../helpers/in-process.js';
import './force-transport.js';

t.test('node transport - the suites of this folder run hooksd with delivery.transport: node', async (t) => {
  const { logs } = await startInProcess(t, { eventTypes: [{ name: 'company.created' }] });
  t.equal(logs().find((entry) => entry.msg === 'hooksd ready')?.transport, 'node');
});

t.test('node transport - a reload switches the transport of the next requests, and says so', async (t) => {
  const { logs, reconfigure } = await startInProcess(t, { eventTypes: [{ name: 'company.created' }] });
  await reconfigure((config) => ({ ...config, delivery: { ...config.delivery, transport: 'got' } }));
  const line = logs().find(
    (entry) => entry.msg === 'the next requests are sent on this transport (delivery.transport)',
  );
  t.equal(line?.transport, 'got');
  t.same(
    logs().filter((entry) => entry.msg === 'these sections changed and apply after a restart'),
    [],
    'no restart needed',
  );
});
