import type { Test } from 'tap';
import { generateSecret } from '../../plugins/standardWebhooks.js';
import { startCountingReceiver, type CountingReceiver } from '../helpers/counting-receiver.js';
import { eventually, tempDir } from '../helpers/hooksd.js';
import { startInstances, type Instance } from '../helpers/hooksd-group.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats-cluster.js';

export interface LoadGroup {
  dir: string;
  cluster: NatsCluster;
  /** The receiver's paths, one a consumer: `/c0`, `/c1`… */
  paths: string[];
  receiver: CountingReceiver;
  instances: Instance[];
}

/**
 * What the cluster load tests share: three routed nats-servers, a counting receiver expecting
 * `prefix`0…`count`-1 on each of `consumers` paths (each signed with its own secret, one first
 * request in `failEvery` answered 500), and three hooksd instances with a consumer for each
 * path (`consumer` adds to each consumer's config).
 */
export async function startLoadGroup(
  t: Test,
  name: string,
  options: { consumers: number; prefix: string; count: number; failEvery: number; consumer?: Record<string, unknown> },
): Promise<LoadGroup> {
  const dir = tempDir(t, name);
  const cluster = await startNatsCluster(t, dir);
  const paths = Array.from({ length: options.consumers }, (_, i) => `/c${i}`);
  const secrets = Object.fromEntries(paths.map((p) => [p, generateSecret()]));
  const { prefix, count, failEvery } = options;
  const receiver = await startCountingReceiver(t, { secrets, prefix, count, failEvery });
  const instances = await startInstances(t, dir, 3, cluster.urls, {
    eventTypes: [{ name: 'load.tick' }],
    consumers: paths.map((p, i) => ({ id: `c${i}`, url: receiver.url + p, secret: secrets[p], ...options.consumer })),
  });
  return { dir, cluster, paths, receiver, instances };
}

/** Waits until `instance` sees `size` live instances; resolves with its /readyz answer. */
export function groupFormed(instance: Instance, size: number): Promise<Record<string, any>> {
  return eventually(
    async () => {
      const { body } = await instance.daemon.api('/readyz');
      return body.instances.live.length === size ? body : undefined;
    },
    30_000,
    `${instance.id} sees the group of ${size}`,
  );
}
