import t from 'tap';
import { connect } from 'nats';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { instanceTag, ownerTagOf } from '../../daemon/store/ids.js';
import { eventually, json, tempDir } from '../helpers/hooksd.js';
import { startInstances } from '../helpers/hooksd-group.js';
import { startNatsCluster } from '../helpers/nats-cluster.js';
import { startReceiver, type Received } from '../helpers/receiver.js';
import { publishSurely } from './load.js';
import { groupFormed } from './load-group.js';

/**
 * The control plane on a real cluster: three nats-servers (the bucket with three replicas) and
 * three hooksd sharing one durable. A consumer disabled through one instance stops on the
 * others within a second; a secret rotated through one signs on another.
 */
t.setTimeout(10 * 60_000);

/** What propagation may take, as the issue asks: a change through one instance holds on all within 1 s. */
const WITHIN_MS = 1000;

t.test(
  'cluster control - disable through A stops B and C within 1 s; a secret rotated through B signs on A',
  async (t) => {
    const dir = tempDir(t, 'cluster-control');
    const cluster = await startNatsCluster(t, dir);
    const receiver = await startReceiver(t);
    const secret = generateSecret();
    const instances = await startInstances(t, dir, 3, cluster.urls, {
      eventTypes: [{ name: 'load.tick' }],
      consumers: [{ id: 'shop', url: receiver.url, secret }],
    });
    const [a, b, c] = instances;
    await groupFormed(a, 3);
    const owner = (request: Received) => {
      const tag = ownerTagOf(String(request.headers['webhook-id']), 'msg_');
      return instances.find((instance) => instanceTag(instance.id) === tag)?.id;
    };
    const nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1 });
    t.teardown(() => nc.close());
    const js = nc.jetstream();

    // A steady flow of events, each delivered by whichever instance took it.
    let n = 0;
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        await publishSurely(js, `tick-${n++}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    t.teardown(async () => {
      flowing = false;
      await flow;
    });
    await eventually(
      () => (new Set(receiver.received.map(owner)).size === 3 ? true : undefined),
      60_000,
      'deliveries from each of the three instances',
    );

    const disabled = await a.daemon.api('/v1/consumers/shop/disable', json('POST'));
    t.equal(disabled.status, 200, 'disabled through A');
    const disabledAt = Date.now();
    // Events keep coming for a few seconds: none may be delivered past the bound by B or C.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    for (const other of [b, c]) {
      const last = Math.max(...receiver.received.filter((r) => owner(r) === other.id).map((r) => r.at));
      t.ok(
        last - disabledAt < WITHIN_MS,
        `${other.id}'s last delivery at ${last - disabledAt} ms from the disable's answer (under ${WITHIN_MS} ms)`,
      );
      t.equal((await other.daemon.api('/v1/consumers/shop')).body.disabled, true, `${other.id} shows it disabled`);
    }
    const after = receiver.received.filter((r) => r.at - disabledAt >= WITHIN_MS);
    t.same(after, [], 'no delivery at all from 1 s after the disable');

    const enabled = await b.daemon.api('/v1/consumers/shop/enable', json('POST'));
    t.equal(enabled.status, 200, 'enabled again through B');
    const rotated = await b.daemon.api('/v1/consumers/shop/secret/rotate', json('POST', { graceSeconds: 0 }));
    t.equal(rotated.status, 200, 'the secret rotated through B');
    const rotatedAt = Date.now();
    const next: string = rotated.body.secret;
    const verifies = (request: Received, key: string) => {
      try {
        new Webhook(key).verify(request.body.toString(), request.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    };
    // A's deliveries after the bound are all signed with the new secret, and only with it.
    const byA = await eventually(
      () => {
        const later = receiver.received.filter((r) => r.at - rotatedAt >= WITHIN_MS && owner(r) === a.id);
        return later.length >= 10 ? later : undefined;
      },
      60_000,
      "ten of A's deliveries after the rotation",
    );
    t.ok(
      byA.every((r) => verifies(r, next)),
      `A's ${byA.length} deliveries from 1 s after the rotation verify with the secret made on B`,
    );
    t.ok(
      byA.every((r) => !verifies(r, secret)),
      'and none with the old one (no grace period)',
    );
    const firstNew = receiver.received.find((r) => r.at >= rotatedAt && owner(r) === a.id && verifies(r, next));
    t.comment(
      `disable: B and C stopped within ${WITHIN_MS} ms; rotation: A's first delivery with the new secret ` +
        `${firstNew === undefined ? '?' : firstNew.at - rotatedAt} ms after it`,
    );
  },
);
