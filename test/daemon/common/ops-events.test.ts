import t from 'tap';
import { createLogger } from '../../../daemon/common/log.js';
import { OpsEvents, RECENT_OPS_EVENTS } from '../../../daemon/common/ops-events.js';

t.test('ops events - only the last 200 are kept, newest first; a payload changed later is not', async (t) => {
  let logged = 0;
  const ops = new OpsEvents(createLogger('warn', { write: () => void (logged += 1) }));
  const payload: Record<string, unknown> = { consumerId: 'c0' };
  ops.publish('consumer.enabled', payload);
  payload.consumerId = 'changed';
  for (let i = 1; i < 250; i++) ops.publish('consumer.enabled', { consumerId: `c${i}` });
  t.equal(RECENT_OPS_EVENTS, 200);
  const all = ops.recent(1000);
  t.equal(all.length, 200, 'the last 200');
  t.same([all[0].payload.consumerId, all[199].payload.consumerId], ['c249', 'c50'], 'newest first');
  t.same(
    ops.recent(2).map((e) => e.payload.consumerId),
    ['c249', 'c248'],
  );
  t.equal(logged, 250, 'every one logged');
  const only = new OpsEvents(createLogger('silent'));
  only.publish('consumer.disabled', payload);
  payload.consumerId = 'again';
  t.equal(only.recent(1)[0].payload.consumerId, 'changed', 'kept as it was published');
});
