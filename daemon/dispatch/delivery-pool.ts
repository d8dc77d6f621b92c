import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Consumer } from './consumer.js';
import type { ToWorker } from './delivery-worker.js';
import { sendHttp, type HttpOutcome, type HttpRequest } from './http-attempt.js';
import type { NetworkGuard } from './network-guard.js';
import type { LoadedTransport } from './transport-loader.js';

/**
 * `delivery.workers` when the config leaves it out: none with two cores or fewer (the main
 * thread, nats-server's and LevelDB's threads already share them), else one per core but one.
 */
export function defaultWorkers(cores = os.availableParallelism()): number {
  return cores <= 2 ? 0 : cores - 1;
}

/** Ran under tsx (tests), the worker is the .ts source beside this file; built, the .js one. */
const WORKER_FILE = new URL(`./delivery-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** Copies of shared bytes (an envelope sent to a whole fan-out), made once per Buffer. */
const copies = new WeakMap<Buffer, Uint8Array>();

/**
 * The bytes alone: a message clones a view's whole ArrayBuffer, and a small Buffer is a
 * view into an 8 kB pool.
 */
function exactBytes(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  let copy = copies.get(bytes);
  if (copy === undefined) {
    copy = new Uint8Array(bytes);
    copies.set(bytes, copy);
  }
  return copy;
}

interface Slot {
  worker: Worker;
  /** Resolves once the worker has loaded its modules; rejects if it stops before. */
  ready: Promise<void>;
  /** Requests sent and not answered yet, by sequence number. */
  pending: Map<number, (outcome: HttpOutcome) => void>;
  /** Consumers, guards and transports this worker has been sent. */
  known: Set<number>;
  guards: Set<number>;
  transports: Set<number>;
}

/**
 * Worker threads that send deliveries' HTTP requests (delivery-worker.ts), so that the
 * transport's work and its garbage leave the main thread; signing, the records, LevelDB and
 * NATS stay on it. Each request goes to the worker with the fewest in flight. A worker gets a
 * consumer's settings (timeout, concurrency, TLS), the network guard's and the transport's (its
 * module and options) before its first request for them, and builds its own agents, guard and
 * transport from them, so every check of the main-thread path holds. A worker that dies fails
 * its requests in flight (recorded as `connect` failures, retried by the consumer's policy) and
 * is replaced.
 */
export class DeliveryPool {
  private readonly slots: Slot[] = [];
  private readonly consumerIds = new WeakMap<Consumer['agent'], number>();
  private readonly guardIds = new WeakMap<NetworkGuard, number>();
  private readonly transportIds = new WeakMap<LoadedTransport, number>();
  private nextId = 1;
  private seq = 0;
  private turn = 0;
  private closing = false;

  constructor(
    readonly size: number,
    private readonly log: Logger,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.start(i));
  }

  /** Sends the request on a worker; like `sendHttp`, never throws. */
  send(
    consumer: Consumer,
    request: HttpRequest,
    maxResponseBytes: number,
    guard: NetworkGuard,
    transport: LoadedTransport,
  ): Promise<HttpOutcome> {
    // A guard built with an injected resolver (tests) cannot be rebuilt in a worker.
    if (guard.portable === undefined || this.closing)
      return sendHttp(consumer, request, maxResponseBytes, guard, transport);
    const slot = this.pick();
    const consumerId = this.idOfConsumer(consumer);
    const guardId = this.idOf(this.guardIds, guard);
    if (!slot.guards.has(guardId)) {
      slot.guards.add(guardId);
      this.post(slot, { kind: 'guard', id: guardId, ...guard.portable });
    }
    const transportId = this.idOf(this.transportIds, transport);
    if (!slot.transports.has(transportId)) {
      slot.transports.add(transportId);
      this.post(slot, { kind: 'transport', id: transportId, source: transport.source });
    }
    if (!slot.known.has(consumerId)) {
      slot.known.add(consumerId);
      const { timeout, concurrency, tls } = consumer;
      this.post(slot, { kind: 'consumer', id: consumerId, timeout, concurrency, tls: { ...tls } });
    }
    const seq = ++this.seq;
    const started = performance.now();
    const body = typeof request.body === 'string' ? request.body : exactBytes(request.body);
    return new Promise((resolve) => {
      // Timed here, as on the main-thread path: the attempt ends when its outcome can be recorded.
      slot.pending.set(seq, (outcome) => resolve({ ...outcome, durationMs: Math.round(performance.now() - started) }));
      const sent = { ...request, body };
      const message = {
        seq,
        consumer: consumerId,
        guard: guardId,
        request: sent,
        maxResponseBytes,
        transport: transportId,
      };
      this.post(slot, { kind: 'send', ...message });
    });
  }

  /** Resolves once every worker has loaded its modules, so that the first requests wait for none. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.ready));
  }

  /** A consumer's agents were closed (consumers.ts): the workers close theirs. */
  forget(agent: Consumer['agent']): void {
    const id = this.consumerIds.get(agent);
    if (id === undefined) return;
    this.consumerIds.delete(agent);
    for (const slot of this.slots) {
      if (slot.known.delete(id)) this.post(slot, { kind: 'forget', id });
    }
  }

  /** Stops the workers; called once no attempt is in flight (app.ts stops the dispatcher first). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private pick(): Slot {
    let best = this.slots[this.turn % this.slots.length]!;
    this.turn++;
    for (const slot of this.slots) if (slot.pending.size < best.pending.size) best = slot;
    return best;
  }

  private idOfConsumer(consumer: Consumer): number {
    let id = this.consumerIds.get(consumer.agent);
    if (id === undefined) {
      id = this.nextId++;
      this.consumerIds.set(consumer.agent, id);
    }
    return id;
  }

  /** A guard's or transport's number: both are replaced as a whole by a reload. */
  private idOf<T extends object>(ids: WeakMap<T, number>, replaced: T): number {
    let id = ids.get(replaced);
    if (id === undefined) {
      id = this.nextId++;
      ids.set(replaced, id);
    }
    return id;
  }

  private post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  private start(index: number): Slot {
    const worker = new Worker(WORKER_FILE, { name: `hooksd-delivery-${index}` });
    worker.unref();
    let loaded: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      failed = reject;
    });
    // Waited for at start-up only; a replacement's requests just queue until it has loaded.
    ready.catch(() => undefined);
    const slot: Slot = {
      worker,
      ready,
      pending: new Map(),
      known: new Set(),
      guards: new Set(),
      transports: new Set(),
    };
    worker.on('message', ({ seq, outcome, ready }: { seq: number; outcome: HttpOutcome; ready?: true }) => {
      if (ready) {
        loaded();
        return;
      }
      const resolve = slot.pending.get(seq);
      slot.pending.delete(seq);
      resolve?.(outcome);
    });
    let ended = false;
    const end = (why: string) => {
      if (ended || this.closing) return;
      ended = true;
      failed(new Error(`a delivery worker stopped while loading (${why})`));
      // Only the error's name and code: its message could carry a consumer's URL.
      this.log.error(
        { worker: index, reason: why },
        'a delivery worker stopped: its requests in flight failed, restarting it',
      );
      const error = `the delivery worker sending this request stopped (${why})`;
      for (const resolve of slot.pending.values())
        resolve({ durationMs: 0, timings: {}, outcome: 'failure', errorClass: 'connect', error });
      slot.pending.clear();
      void worker.terminate();
      this.slots[index] = this.start(index);
    };
    worker.on('error', (error: Error & { code?: string }) =>
      end(error.code ? `${error.name} ${error.code}` : error.name),
    );
    worker.on('exit', (code) => end(`exit code ${code}`));
    return slot;
  }
}
