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

/**
 * Creates the stream (when allowed and missing) and the durable pull consumer hooksd reads
 * with, or brings an existing consumer's ack wait and max ack pending in line with the config.
 */
export async function ensureStreamAndConsumer(jsm: JetStreamManager, config: HooksdConfig, log: Logger): Promise<void> {
  const { stream, subjects, durable, createStream, maxAckPending, ackWait } = config.nats;
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
  const wanted = { ack_wait: nanos(ackWait), max_ack_pending: maxAckPending };
  let existing;
  try {
    existing = await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...wanted,
    });
    log.info({ stream, durable }, 'created durable consumer');
    return;
  }
  const { ack_wait, max_ack_pending } = existing.config;
  if (ack_wait !== wanted.ack_wait || max_ack_pending !== wanted.max_ack_pending) {
    await jsm.consumers.update(stream, durable, wanted);
    log.info({ stream, durable, ackWaitMs: ackWait, maxAckPending }, 'updated the durable consumer to the config');
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error).message ?? '');
}
