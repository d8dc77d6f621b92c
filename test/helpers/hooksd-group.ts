import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { startDaemon, writeConfig, type Daemon } from './hooksd.js';

/** One hooksd process of a group, with its own storage; `start` runs it again on the same config and store. */
export interface Instance {
  id: string;
  configFile: string;
  daemon: Daemon;
  start(): Promise<Daemon>;
}

/**
 * `count` built hooksd processes (`hooksd-1`…) sharing the NATS servers at `urls`, each with its
 * own folder under `dir` (its config and LevelDB store) and API port. `config` is the common
 * part of their configs; the streams hooksd creates get `replicas`. Each stops at the test's
 * end, as startDaemon's do.
 */
export async function startInstances(
  t: Test,
  dir: string,
  count: number,
  urls: string[],
  config: Record<string, any>,
  replicas = 3,
): Promise<Instance[]> {
  const instances = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = `hooksd-${i + 1}`;
      const home = path.join(dir, id);
      mkdirSync(home, { recursive: true });
      const configFile = await writeConfig(home, {
        ...config,
        instance: { id },
        nats: { servers: urls, replicas, ...config.nats },
      });
      const instance: Instance = {
        id,
        configFile,
        daemon: undefined as unknown as Daemon,
        async start() {
          instance.daemon = await startDaemon(t, configFile);
          return instance.daemon;
        },
      };
      return instance;
    }),
  );
  // All at once, as an orchestrator starts them: they race to create the streams and consumers.
  await Promise.all(instances.map((instance) => instance.start()));
  return instances;
}

/** A counter's value summed over the series of `name` whose labels include `labels`, from a /metrics text. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The instance's /metrics text. */
export async function metricsOf(instance: Instance): Promise<string> {
  const res = await fetch(instance.daemon.url + '/metrics');
  return res.text();
}

/** Every record of a list route of one instance (e.g. `/v1/messages?status=attempting`), walking its cursor. */
export async function listAll<T = any>(instance: Instance, route: string): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `${route}${route.includes('?') ? '&' : '?'}limit=250${cursor ? `&cursor=${cursor}` : ''}`;
    const { status, body } = await instance.daemon.api(query);
    if (status !== 200) throw new Error(`${query}: ${status} ${JSON.stringify(body)}`);
    all.push(...body.data);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return all;
}
