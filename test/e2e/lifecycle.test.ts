import t from 'tap';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { eventIdOf, settledAfter, startGateway } from '../helpers/gateway.js';
import { eventually, startDaemon } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';

t.test('shutdown - SIGTERM answers 503 on /readyz, finishes the attempt in flight, then exits 0', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 1500 }));
  const { daemon, configFile, publish } = await startGateway(t, {
    eventTypes: [{ name: 'company.created' }],
    consumers: [{ id: 'slow', url: receiver.url }],
  });
  const inFlight = await publish('company.created');
  await receiver.waitFor(1);

  const exited = daemon.stop('SIGTERM');
  // It can answer 503 only while it drains (until the attempt's answer comes, 1.5 s after it was
  // sent); once it has exited nothing answers, so a long deadline does not make the check weaker.
  const draining = await eventually(
    async () => {
      const res = await daemon.api('/readyz').catch(() => undefined);
      return res?.status === 503 ? res : undefined;
    },
    20_000,
    '/readyz to answer 503',
  );
  t.equal(draining.body.checks.draining, true);
  t.equal(draining.body.problems.draining, 'hooksd is stopping: it takes no new work', 'saying why');
  t.equal(await exited, 0, 'exit code 0');
  t.match(daemon.output(), /"msg":"hooksd stopped"/);

  const again = await startDaemon(t, configFile);
  const { body } = await again.api('/v1/messages?consumerId=slow');
  t.equal(body.data[0].status, 'success', 'the in-flight attempt finished and was recorded before exit');
  t.equal(body.data[0].attempts, 1);
  const sentinel = await publish('company.created');
  await settledAfter(again.api, receiver, sentinel);
  t.same(receiver.received.map(eventIdOf), [inFlight, sentinel], 'and is not sent again after the restart');
});

t.test('logs - JSON lines that never contain secrets or credentials', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 500 }));
  const secret = generateSecret();
  const { daemon, publish } = await startGateway(t, {
    log: { level: 'trace' },
    eventTypes: [{ name: 'company.created' }],
    consumers: [
      { id: 'c', url: receiver.url, secret, headers: { Authorization: 'Bearer do-not-log-me' }, retrySchedule: ['0s'] },
    ],
  });
  await publish('company.created');
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
