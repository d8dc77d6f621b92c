import t from 'tap';
import type { NatsConnection } from 'nats';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { startGateway } from '../helpers/gateway.js';
import { eventually, startDaemon, PIPELINE_WITHOUT_JITTER } from '../helpers/hooksd.js';
import { startReceiver, type Received } from '../helpers/receiver.js';

const post = { method: 'POST', headers: { 'content-type': 'application/json' } };

function opsLog(nc: NatsConnection) {
  const seen: { subject: string; data: any }[] = [];
  const sub = nc.subscribe('hooksd.ops.>');
  void (async () => {
    for await (const m of sub) seen.push({ subject: m.subject, data: JSON.parse(new TextDecoder().decode(m.data)) });
  })();
  return seen;
}

t.test(
  'secret rotation - both secrets sign during the grace period, then only the new one, also after a restart',
  async (t) => {
    const receiver = await startReceiver(t);
    const oldSecret = generateSecret();
    const gateway = await startGateway(t, {
      eventTypes: [{ name: 'company.created' }],
      consumers: [{ id: 'rotating', url: receiver.url, secret: oldSecret }],
    });
    let { daemon } = gateway;
    const publish = () => gateway.publish('company.created');
    const verifies = (r: Received, secret: string) => {
      try {
        new Webhook(secret).verify(r.body.toString(), r.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };

    await publish();
    const [before] = await receiver.waitFor(1);
    t.equal(String(before.headers['webhook-signature']).split(' ').length, 1);

    const rotated = await daemon.api('/v1/consumers/rotating/secret/rotate', {
      ...post,
      // Long enough that an event published now is signed within it on a busy machine too.
      body: JSON.stringify({ graceSeconds: 10 }),
    });
    t.equal(rotated.status, 200);
    const newSecret = rotated.body.secret;
    t.match(newSecret, /^whsec_[A-Za-z0-9+/]{32}$/);
    t.not(newSecret, oldSecret);
    const shown = await daemon.api('/v1/consumers/rotating/enable', post);
    t.notMatch(
      JSON.stringify(shown.body),
      newSecret.slice(6),
      'the secret is shown once, at rotation, and nowhere else',
    );

    await publish();
    const during = (await receiver.waitFor(2))[1];
    t.equal(String(during.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the grace period');
    t.ok(verifies(during, oldSecret), 'standardwebhooks verifies with the old secret');
    t.ok(verifies(during, newSecret), 'standardwebhooks verifies with the new secret');

    const graceEnds = Date.parse(rotated.body.previousSecretsExpireAt);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceEnds - Date.now()) + 100));
    await publish();
    const after = (await receiver.waitFor(3))[2];
    t.equal(
      String(after.headers['webhook-signature']).split(' ').length,
      1,
      'one signature once the grace period is over',
    );
    t.ok(verifies(after, newSecret));
    t.notOk(verifies(after, oldSecret));

    await daemon.stop();
    daemon = await startDaemon(t, gateway.configFile);
    await publish();
    const restarted = (await receiver.waitFor(4))[3];
    t.ok(verifies(restarted, newSecret), 'the rotated secret outlives a restart');
    t.notOk(verifies(restarted, oldSecret), 'and the YAML secret it replaced stays retired');
    t.equal((await daemon.api('/v1/consumers/nope/secret/rotate', post)).status, 404);
    t.equal(
      (await daemon.api('/v1/consumers/rotating/secret/rotate', { ...post, body: '{"graceSeconds": -1}' })).body.code,
      'HOOKSD_INVALID_REQUEST',
    );
  },
);

t.test(
  'disable then replay - events that arrive while a consumer is disabled all reach it once it is back',
  async (t) => {
    let healthy = false;
    const answeredOk = new Set<string>();
    const receiver = await startReceiver(t, (r) => {
      if (healthy) answeredOk.add(JSON.parse(r.body.toString()).id);
      return { status: healthy ? 200 : 500 };
    });
    const gateway = await startGateway(t, {
      eventTypes: [{ name: 'company.created' }],
      delivery: { disableAfter: '1s' },
      pipeline: PIPELINE_WITHOUT_JITTER,
      consumers: [
        { id: 'flaky', url: receiver.url, retrySchedule: ['0s', '400ms', '400ms', '400ms', '400ms', '400ms'] },
      ],
    });
    const { daemon } = gateway;
    const ops = opsLog(gateway.nc);
    const ids: string[] = [];
    const publish = async () => void ids.push(await gateway.publish('company.created'));

    await publish();
    await eventually(
      () => ops.find((o) => o.subject === 'hooksd.ops.consumer.disabled'),
      20_000,
      'the consumer to be disabled',
    );
    for (let i = 0; i < 5; i++) await publish();
    const skipped = await eventually(async () => {
      const { body } = await daemon.api('/v1/messages?consumerId=flaky&status=skipped');
      return body.data.length >= 5 ? body.data : undefined;
    });
    t.equal(skipped.length, 5, 'messages falling due while disabled are skipped, with their payload kept');
    t.equal((await daemon.api(`/v1/messages/${skipped[0].id}/resend`, post)).body.code, 'HOOKSD_CONSUMER_DISABLED');

    healthy = true;
    const enabled = await daemon.api('/v1/consumers/flaky/enable', post);
    t.equal(enabled.body.disabled, false);
    await eventually(() => ops.find((o) => o.subject === 'hooksd.ops.consumer.enabled'), 20_000, 'consumer.enabled');
    await publish();

    const { body } = await daemon.api('/v1/messages?consumerId=flaky&limit=250');
    for (const message of body.data.filter((m: any) => m.status === 'skipped' || m.status === 'failure')) {
      const resent = await daemon.api(`/v1/messages/${message.id}/resend`, post);
      t.equal(resent.status, 202);
    }
    await eventually(() => (ids.every((id) => answeredOk.has(id)) ? true : undefined), 20_000, 'every event to arrive');
    t.equal(answeredOk.size, ids.length, 'every event reached the consumer and was answered 200');
    t.ok(receiver.received.length > ids.length, 'after failing attempts before');
    const done = await eventually(async () => {
      const { body } = await daemon.api('/v1/messages?consumerId=flaky&status=success&limit=250');
      return body.data.length === ids.length ? body.data : undefined;
    });
    t.ok(
      done.some((m: any) => m.manualAttempts === 1),
      'the replayed ones were manual attempts',
    );
    t.same(ops.filter((o) => o.subject === 'hooksd.ops.consumer.disabled').length, 1, 'disabled once, announced once');
  },
);
