import t from 'tap';
import { eventually, natsClient } from '../../helpers/hooksd.js';
import { startInProcess } from '../../helpers/in-process.js';
import { startReceiver } from '../../helpers/receiver.js';

t.test(
  'ingest - a store failure in one batch does not stop ingest: that batch comes back, later ones flow',
  async (t) => {
    const receiver = await startReceiver(t);
    const hooksd = await startInProcess(t, {
      eventTypes: [{ name: 'company.created' }],
      consumers: [{ id: 'c', url: receiver.url }],
    });
    // The store fails once, as a full disk or a LevelDB error would, in the read ingest does before its write.
    const { store } = hooksd.app;
    const existingEventIds = store.existingEventIds.bind(store);
    let failures = 0;
    store.existingEventIds = async (ids) => {
      if (failures++ === 0) throw new Error('simulated LevelDB failure');
      return existingEventIds(ids);
    };
    const js = (await natsClient(t, hooksd.nats!.url)).jetstream();
    await js.publish('events.company.created', JSON.stringify({ id: 'first', payload: {} }));
    await eventually(() => (failures > 0 ? true : undefined), 20_000, 'the failed batch');
    await js.publish('events.company.created', JSON.stringify({ id: 'second', payload: {} }));
    const ids = await eventually(
      () => {
        const seen = new Set(receiver.received.map((r) => JSON.parse(r.body.toString()).id));
        return seen.has('first') && seen.has('second') ? seen : undefined;
      },
      40_000,
      'both events delivered',
    );
    t.same(
      [...ids].sort(),
      ['first', 'second'],
      'the event of the failed batch came back, and the next one was not stuck',
    );
    t.ok(
      hooksd.logs().some((line) => line.msg === 'could not store events; NATS redelivers them'),
      'the failure is logged',
    );
  },
);
