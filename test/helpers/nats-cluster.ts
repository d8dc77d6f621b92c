import path from 'node:path';
import { connect } from 'nats';
import type { Test } from 'tap';
import { freePort } from './nats.js';
import { startNatsProcess, type NatsProcess } from './nats-process.js';

export interface NatsCluster {
  /** The servers' client URLs, in order. */
  urls: string[];
  servers: NatsProcess[];
}

/**
 * `size` nats-server processes on 127.0.0.1 routed into one JetStream cluster, each with a store
 * folder of its own under `dir`; resolves once JetStream answers (the cluster has a meta leader).
 * Each server can be killed and started again on its ports and store; all stop at the test's end.
 */
export async function startNatsCluster(t: Test, dir: string, size = 3): Promise<NatsCluster> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((port) => `nats://127.0.0.1:${port}`);
  // A server is ready once it listens, before it has met its routes: start them all at once.
  const servers = await Promise.all(
    clusterPorts.map((port, i) =>
      startNatsProcess(t, path.join(dir, `nats-${i + 1}`), undefined, [
        '-n',
        `n${i + 1}`,
        '--cluster_name',
        'hooksd-test',
        '--cluster',
        `nats://127.0.0.1:${port}`,
        '--routes',
        routes.filter((_, j) => j !== i).join(','),
      ]),
    ),
  );
  const urls = servers.map((server) => server.url);
  await jetStreamAnswers(urls);
  return { urls, servers };
}

/** Waits until JetStream answers through these servers: the cluster elected its meta leader. */
export async function jetStreamAnswers(urls: string[], timeoutMs = 60_000): Promise<void> {
  const nc = await connect({ servers: urls, maxReconnectAttempts: -1 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`JetStream did not answer within ${timeoutMs} ms: ${error}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
