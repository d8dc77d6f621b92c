import t from 'tap';
import pino from 'pino';
import { loadConfig } from '../../../config/loader.js';
import { buildApp } from '../../../daemon/main/app.js';
import { eventually, natsClient, tempDir, writeConfig } from '../../helpers/hooksd.js';
import { startNats } from '../../helpers/nats.js';
import { startReceiver } from '../../helpers/receiver.js';

t.test(
  'ingest - a store failure in one batch does not stop ingest: that batch comes back, later ones flow',
  async (t) => {
    const nats = await startNats(t);
    const receiver = await startReceiver(t);
    const file = await writeConfig(tempDir(t), {
      nats: { servers: [nats.url] },
      eventTypes: [{ name: 'company.created' }],
      consumers: [{ id: 'c', url: receiver.url }],
    });
    const app = buildApp(loadConfig(file), { configFile: file, log: pino({ level: 'silent' }) });
    t.teardown(() => app.stop());
    await app.start();
    // The store fails once, as a full disk or a LevelDB error would, in the read ingest does before its write.
    const { store } = app;
    const existingEventIds = store.existingEventIds.bind(store);
    let failures = 0;
    store.existingEventIds = async (ids) => {
      if (failures++ === 0) throw new Error('simulated LevelDB failure');
      return existingEventIds(ids);
    };
    const js = (await natsClient(t, nats.url)).jetstream();
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
  },
);
