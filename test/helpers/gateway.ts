import { randomUUID } from 'node:crypto';
import type { JetStreamClient, NatsConnection } from 'nats';
import type { Test } from 'tap';
import { eventually, natsClient, startDaemon, tempDir, writeConfig, type Api, type Daemon } from './hooksd.js';
import { startNats, type TestNats } from './nats.js';
import type { Receiver } from './receiver.js';

export interface Gateway {
  nats: TestNats;
  /** The folder of the config file and of the store. */
  dir: string;
  /** The config file as written (the daemon may have been started with a link to it: `startWith`). */
  configFile: string;
  daemon: Daemon;
  api: Api;
  nc: NatsConnection;
  js: JetStreamClient;
  /** Publishes `{id, payload, ...envelope}` on `events.<eventType>`; returns the id (new unless `envelope` has one). */
  publish(eventType: string, payload?: unknown, envelope?: Record<string, unknown>): Promise<string>;
}

/**
 * The e2e prologue: a real nats-server, `config` written with it as `nats.servers`, the built
 * daemon started on it, and a NATS client to publish with; all stopped when the test ends.
 */
export async function startGateway(
  t: Test,
  config: Record<string, any>,
  options: {
    /** Where the config file (and the store) go; a new temporary folder by default. */
    dir?: string;
    /** Given the written config file, returns the file the daemon is started with. */
    startWith?: (configFile: string) => string;
    env?: Record<string, string>;
    nodeArgs?: string[];
  } = {},
): Promise<Gateway> {
  const nats = await startNats(t);
  const dir = options.dir ?? tempDir(t);
  const configFile = await writeConfig(dir, { nats: { servers: [nats.url] }, ...config });
  const daemon = await startDaemon(t, options.startWith?.(configFile) ?? configFile, options.env, options.nodeArgs);
  const nc = await natsClient(t, nats.url);
  const js = nc.jetstream();
  return {
    nats,
    dir,
    configFile,
    daemon,
    api: daemon.api,
    nc,
    js,
    async publish(eventType, payload = {}, envelope = {}) {
      const event = { id: randomUUID(), payload, ...envelope };
      await js.publish(`events.${eventType}`, JSON.stringify(event));
      return String(event.id);
    },
  };
}

/** The event id in a request's body, when the body is an envelope. */
export function eventIdOf(request: { body: Buffer }): string | undefined {
  try {
    return JSON.parse(request.body.toString()).id;
  } catch {
    return undefined;
  }
}

/**
 * Waits until `receiver` got the event `sentinelId`, published after the events a test counts,
 * and until no message is still to be sent (none `sending`, no retry pending): whatever the
 * earlier events were to cause has arrived by then, so "nothing else arrived" can be checked
 * without a fixed sleep.
 */
export async function settledAfter(api: Api, receiver: Receiver, sentinelId: string, timeoutMs = 30_000) {
  await eventually(
    () => (receiver.received.some((r) => eventIdOf(r) === sentinelId) ? true : undefined),
    timeoutMs,
    `the sentinel event ${sentinelId}`,
  );
  await eventually(
    async () => {
      for (const status of ['sending', 'attempting']) {
        const { status: code, body } = await api(`/v1/messages?status=${status}&limit=1`);
        if (code !== 200) throw new Error(`GET /v1/messages answered ${code}: ${JSON.stringify(body)}`);
        if (body.data.length > 0) return undefined;
      }
      return true;
    },
    timeoutMs,
    'no message left to send',
  );
}
