import path from 'node:path';
import {
  AckPolicy,
  DeliverPolicy,
  connect,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { Logger } from 'pino';
import type { HooksdConfig } from '../../config/schema.js';
import { EmbeddedNats } from './embedded-nats.js';
import { HooksdError } from '../common/errors.js';

export interface NatsHandle {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stop(): Promise<void>;
}

const ACK_WAIT_MS = 60_000;

/**
 * Connects to the configured servers, or starts the embedded nats-server when none are
 * configured. Reconnection is left to the nats client: it retries forever.
 */
export async function openNats(config: HooksdConfig, log: Logger): Promise<NatsHandle> {
  let embedded: EmbeddedNats | undefined;
  let servers = config.nats.servers;
  if (servers === undefined) {
    embedded = new EmbeddedNats({
      storeDir: path.join(config.storage.path, 'nats'),
      port: config.nats.embeddedPort,
      logger: log,
    });
    servers = [await embedded.start()];
    log.info({ servers }, 'embedded nats-server started');
  }
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: [...servers], name: 'hooksd', maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
  } catch (error) {
    await embedded?.stop();
    throw new HooksdError(
      'HOOKSD_NATS_UNAVAILABLE',
      `cannot connect to NATS at ${servers.join(', ')}: ${(error as Error).message}`,
    );
  }
  void logStatus(nc, log);
  const jsm = await nc.jetstreamManager();
  return {
    nc,
    js: nc.jetstream(),
    jsm,
    async stop() {
      await nc.drain().catch(() => nc.close());
      await embedded?.stop();
    },
  };
}

async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error')
      log.warn({ nats: status.type, data: String(status.data) }, 'nats connection status');
  }
}

/** Creates the stream (when allowed and missing) and the durable pull consumer hooksd reads with. */
export async function ensureStreamAndConsumer(jsm: JetStreamManager, config: HooksdConfig, log: Logger): Promise<void> {
  const { stream, subjects, durable, createStream, maxAckPending } = config.nats;
  try {
    await jsm.streams.info(stream);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (!createStream)
      throw new HooksdError(
        'HOOKSD_NATS_UNAVAILABLE',
        `stream ${stream} does not exist and nats.createStream is false`,
      );
    await jsm.streams.add({ name: stream, subjects: [...subjects] });
    log.info({ stream, subjects }, 'created stream');
  }
  try {
    await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: maxAckPending,
    });
    log.info({ stream, durable }, 'created durable consumer');
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error).message ?? '');
}
