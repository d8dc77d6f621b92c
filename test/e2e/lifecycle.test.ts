import t from 'tap';
import { randomUUID } from 'node:crypto';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { eventually, natsClient, startDaemon, tempDir, writeConfig } from '../helpers/hooksd.js';
import { startNats } from '../helpers/nats.js';
import { startReceiver } from '../helpers/receiver.js';

t.test('shutdown - SIGTERM answers 503 on /readyz, finishes the attempt in flight, then exits 0', async (t) => {
  const nats = await startNats(t);
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 1500 }));
  const file = await writeConfig(tempDir(t), {
    nats: { servers: [nats.url] },
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'slow', url: receiver.url }],
  });
  const daemon = await startDaemon(t, file);
  const nc = await natsClient(t, nats.url);
  await nc.jetstream().publish('events.company.created', JSON.stringify({ id: randomUUID(), payload: {} }));
  await receiver.waitFor(1);

  const exited = daemon.stop('SIGTERM');
  const draining = await eventually(
    async () => {
      const res = await daemon.api('/readyz').catch(() => undefined);
      return res?.status === 503 ? res : undefined;
    },
    1400,
    '/readyz to answer 503',
  );
  t.equal(draining.body.checks.draining, true);
  t.equal(await exited, 0, 'exit code 0');
  t.match(daemon.output(), /"msg":"hooksd stopped"/);

  const again = await startDaemon(t, file);
  const { body } = await again.api('/v1/messages?consumerId=slow');
  t.equal(body.data[0].status, 'success', 'the in-flight attempt finished and was recorded before exit');
  t.equal(body.data[0].attempts, 1);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  t.equal(receiver.received.length, 1, 'and is not sent again after the restart');
});

t.test('logs - JSON lines that never contain secrets or credentials', async (t) => {
  const nats = await startNats(t);
  const receiver = await startReceiver(t, () => ({ status: 500 }));
  const secret = generateSecret();
  const file = await writeConfig(tempDir(t), {
    nats: { servers: [nats.url] },
    log: { level: 'trace' },
    eventTypes: [{ name: 'company.created' }],
    consumers: [
      { id: 'c', url: receiver.url, secret, headers: { Authorization: 'Bearer do-not-log-me' }, retrySchedule: ['0s'] },
    ],
  });
  const daemon = await startDaemon(t, file);
  const nc = await natsClient(t, nats.url);
  await nc.jetstream().publish('events.company.created', JSON.stringify({ id: randomUUID(), payload: {} }));
  await receiver.waitFor(1);
  const message = await eventually(async () => (await daemon.api('/v1/messages?status=failure')).body.data[0]);
  const attempts = await daemon.api(`/v1/messages/${message.id}/attempts`);
  t.equal(attempts.body.data[0].request.headers.Authorization, '[redacted]', 'attempt records redact credentials');
  await daemon.stop();
  const output = daemon.output();
  t.ok(daemon.logs().length > 3, 'logs are JSON lines');
  t.notMatch(output, secret.slice(6));
  t.notMatch(output, 'do-not-log-me');
  t.notMatch(JSON.stringify(attempts.body), 'do-not-log-me');
  t.notMatch(JSON.stringify(attempts.body), secret.slice(6));
});
