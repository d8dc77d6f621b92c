import path from 'node:path';
import {
  AckPolicy,
  DeliverPolicy,
  ErrorCode,
  connect,
  type NatsError,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from 'nats';
import type { Logger } from 'pino';
import type { HooksdConfig } from '../../config/schema.js';
import { EmbeddedNats } from './embedded-nats.js';
import { HooksdError } from '../common/errors.js';
import { patiently } from '../common/patience.js';

export interface NatsHandle {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** False while the client has lost the server and tries to get it back. */
  readonly connected: boolean;
  /**
   * Runs a JetStream request until it gets an answer: one that times out or finds no responders
   * (a cluster electing leaders, a server restarting) is tried again, as NATS is at start.
   */
  patiently<T>(what: string, request: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 30_000;

/**
 * Connects to the configured servers, or starts the embedded nats-server when none are
 * configured. Servers that cannot be reached at start are tried again, the wait doubling up
 * to 30 s, with a log line each time, until `stopping()` says to give up, unless
 * `nats.failFast` asks to fail at once. Once connected, reconnection is left to the nats
 * client: it retries forever, and `connected` follows it.
 */
export async function openNats(config: HooksdConfig, log: Logger, stopping: () => boolean): Promise<NatsHandle> {
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
    nc = await connectPatiently([...servers], config.nats.failFast || embedded !== undefined, log, stopping);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const state = { connected: true };
  void followStatus(nc, state, log);
  // Not checked here: the control bucket, opened next, waits for JetStream as this waits for NATS.
  const jsm = await nc.jetstreamManager({ checkAPI: false });
  return {
    nc,
    js: nc.jetstream(),
    jsm,
    get connected() {
      return state.connected && !nc.isClosed();
    },
    patiently: (what, request) =>
      patiently(request, {
        failFast: config.nats.failFast,
        stopping,
        passing: isPassing,
        waiting: (error, retryInMs) =>
          log.warn(
            { retryInMs, reason: error.message },
            `JetStream does not answer yet (${what}); hooksd tries again (set nats.failFast: true to exit instead)`,
          ),
        giveUp: (error, stopped) =>
          isPassing(error)
            ? new HooksdError(
                'HOOKSD_NATS_UNAVAILABLE',
                `${stopped ? 'stopped while waiting: ' : ''}${what}: ${error.message}`,
              )
            : error,
      }),
    async stop() {
      await nc.drain().catch(() => nc.close());
      await embedded?.stop();
    },
  };
}

async function connectPatiently(
  servers: string[],
  failFast: boolean,
  log: Logger,
  stopping: () => boolean,
): Promise<NatsConnection> {
  for (let wait = FIRST_RETRY_MS; ; wait = Math.min(2 * wait, LONGEST_RETRY_MS)) {
    try {
      return await connect({ servers, name: 'hooksd', maxReconnectAttempts: -1, reconnectTimeWait: 1000 });
    } catch (error) {
      const reason = `cannot connect to NATS at ${servers.join(', ')}: ${(error as Error).message}`;
      if (failFast) throw new HooksdError('HOOKSD_NATS_UNAVAILABLE', reason);
      log.warn(
        { servers, retryInMs: wait, reason: (error as Error).message },
        'NATS is not reachable; hooksd tries again (set nats.failFast: true to exit instead)',
      );
      for (const until = Date.now() + wait; Date.now() < until;) {
        if (stopping()) throw new HooksdError('HOOKSD_NATS_UNAVAILABLE', `stopped while waiting: ${reason}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - Date.now())));
      }
    }
  }
}

/** Logs the connection's ups and downs and keeps `state.connected` in step with them. */
async function followStatus(nc: NatsConnection, state: { connected: boolean }, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') state.connected = false;
    if (status.type === 'reconnect') state.connected = true;
    if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
      log.warn({ nats: status.type, data: String(status.data) }, 'nats connection status');
    }
  }
}

/** A JetStream request that failed this way may succeed later: no answer in time, or no responders. */
function isPassing(error: Error): boolean {
  const code = (error as NatsError).code;
  return (
    code === ErrorCode.Timeout || code === ErrorCode.NoResponders || /temporarily unavailable/i.test(error.message)
  );
}

/**
 * Creates the stream (when allowed and missing) and the durable pull consumer hooksd reads
 * with, or brings an existing consumer's ack wait and max ack pending in line with the config;
 * each request is tried again while JetStream does not answer (a cluster electing leaders).
 */
export async function ensureStreamAndConsumer(nats: NatsHandle, config: HooksdConfig, log: Logger): Promise<void> {
  await nats.patiently(`setting up the stream ${config.nats.stream}`, () =>
    setUpStreamAndConsumer(nats.jsm, config, log),
  );
}

async function setUpStreamAndConsumer(jsm: JetStreamManager, config: HooksdConfig, log: Logger): Promise<void> {
  const { stream, subjects, durable, createStream, maxAckPending, ackWait, replicas } = config.nats;
  try {
    const existing = await jsm.streams.info(stream);
    if ((existing.config.num_replicas ?? 1) !== replicas)
      log.warn(
        { stream, replicas: existing.config.num_replicas, wanted: replicas },
        'the stream has another number of replicas than nats.replicas: hooksd leaves it as it is ' +
          '(nats stream edit changes it)',
      );
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (!createStream)
      throw new HooksdError(
        'HOOKSD_NATS_UNAVAILABLE',
        `stream ${stream} does not exist and nats.createStream is false`,
      );
    await jsm.streams.add({ name: stream, subjects: [...subjects], num_replicas: replicas });
    log.info({ stream, subjects, replicas }, 'created stream');
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

const LEADER_WAIT_MS = 15_000;

/**
 * Waits until the durable consumer has a leader on a NATS cluster (at once on a single server).
 * Pull requests sent while a new replicated consumer still elects its leader are lost, and the
 * client asks again only after missing two heartbeats (some 30 s): instances started at once
 * would sit idle that long while the first took every event. Gives up waiting after 15 s.
 */
export async function consumerLeader(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  for (const until = Date.now() + LEADER_WAIT_MS; Date.now() < until;) {
    const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
    if (info !== undefined && (info.cluster === undefined || info.cluster.leader)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isNotFound(error: unknown): boolean {
  return /not found/i.test((error as Error).message ?? '');
}
