import t from 'tap';
import pino from 'pino';
import { loadConfig } from '../../../config/loader.js';
import { buildApp } from '../../../daemon/main/app.js';
import { eventually, natsClient, tempDir, writeConfig } from '../../helpers/hooksd.js';
import { startNats } from '../../helpers/nats.js';
import { startReceiver } from '../../helpers/receiver.js';

t.test(
  "consumers - a changed consumer's old connections outlive its own timeout, not only delivery.timeout",
  async (t) => {
    const nats = await startNats(t);
    // Answers after 3 s: longer than delivery.timeout (1 s) plus its margin, within the consumer's own 10 s.
    const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 3000 }));
    const file = await writeConfig(tempDir(t), {
      nats: { servers: [nats.url] },
      eventTypes: [{ name: 'company.created' }],
      delivery: { timeout: '1s' },
    });
    const app = buildApp(loadConfig(file), { configFile: file, log: pino({ level: 'silent' }) });
    t.teardown(() => app.stop());
    const url = await app.start();
    const api = async (path: string, method = 'GET', body?: unknown) => {
      const res = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };
    const consumer = { id: 'slow', url: receiver.url, timeout: '10s', retrySchedule: ['0s'] };
    t.equal((await api('/v1/consumers', 'POST', consumer)).status, 201);
    const js = (await natsClient(t, nats.url)).jetstream();
    await js.publish('events.company.created', JSON.stringify({ id: 'slow-answer', payload: {} }));
    await receiver.waitFor(1);
    // The change replaces the consumer; the request in flight still uses the replaced one's connections.
    t.equal((await api('/v1/consumers/slow', 'PATCH', { description: 'changed mid-request' })).status, 200);
    const message = await eventually(async () => {
      const [found] = (await api('/v1/messages?consumerId=slow')).body.data;
      return found?.status === 'sending' ? undefined : found;
    }, 30_000);
    t.equal(message.status, 'success', `the attempt in flight finished (${message.lastError ?? 'no error'})`);
  },
);
