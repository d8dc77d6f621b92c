import {
  Empty,
  headers,
  type JetStreamClient,
  type KV,
  type KvEntry,
  type NatsConnection,
  type NatsError,
  type QueuedIterator,
} from 'nats';
import type { Logger } from 'pino';
import { HooksdError } from '../common/errors.js';
import { patiently } from '../common/patience.js';
import { controlKey, parseControlKey, readControlValue, type ControlKind, type ControlValues } from './control-keys.js';

export interface ControlBucketOptions {
  /** nats.controlBucket. */
  bucket: string;
  /** Copies JetStream keeps of the bucket (applied when hooksd creates it). */
  replicas: number;
  /** nats.failFast: give up at once when the bucket cannot be opened. */
  failFast: boolean;
  /** Asked while waiting for the bucket: true gives up. */
  stopping: () => boolean;
}

/** A key as this instance last saw it: its last valid value (if any) and its revision, deletes included. */
interface Entry {
  value: unknown;
  revision: number;
}

/** JetStream's answer when the expected revision of a key is not its last one. */
const WRONG_REVISION = 10071;
/** How long a write waits for the bucket's stream to have a leader (it answers 503 until then). */
const NO_LEADER_WAIT_MS = 15_000;
const CAS_TRIES = 20;
/** How long a write waits for the bucket's watch to bring it back before applying it here by itself. */
const ECHO_WAIT_MS = 5_000;
/** How often a watch that cannot be made again after a reconnection is tried again. */
const REWATCH_MS = 1_000;
const REWATCH_TIMEOUT_MS = 10_000;
/** How long the first watch may take to bring every value (a large bucket on a busy machine). */
const FIRST_WATCH_TIMEOUT_MS = 30_000;

/**
 * The control bucket: one JetStream key-value bucket (control-keys.ts lists its keys) that every
 * instance watches, keeping its values in memory, so reads answer at once; a write resolves once
 * this instance's watch has brought it back, and listeners are told of every key that changed,
 * whoever changed it. `compareAndSet` writes only if the key is still at the revision the change
 * was computed from, and computes it again otherwise. control-plane.ts gives it its typed reads
 * and writes.
 *
 * A value that is not what hooksd writes is logged with its key (never its content) and
 * skipped: the key keeps its last good value, or none.
 */
export class ControlBucket {
  private readonly listeners: ((kind: ControlKind, id: string) => void)[] = [];
  private kv: KV | undefined;
  private js: JetStreamClient | undefined;
  private bucket = '';
  private log: Logger | undefined;
  private watch: QueuedIterator<KvEntry> | undefined;
  private watching: Promise<void> | undefined;
  protected readonly entries = new Map<string, Entry>();
  /** The last revision the watch brought. */
  private seen = 0;
  private waiters: { revision: number; resolve: () => void }[] = [];

  /** `listener` is told the kind and id of each key whose value changed, after the change applies here. */
  listen(listener: (kind: ControlKind, id: string) => void): void {
    this.listeners.push(listener);
  }

  get isOpen(): boolean {
    return this.kv !== undefined;
  }

  get bucketName(): string {
    return this.bucket;
  }

  /**
   * Creates the bucket when missing (or binds it), then reads all its values and keeps watching.
   * A bucket that cannot be opened is tried again as NATS is at start (common/patience.ts).
   */
  async open(nc: NatsConnection, options: ControlBucketOptions, log: Logger): Promise<void> {
    const js = nc.jetstream();
    this.js = js;
    this.bucket = options.bucket;
    this.log = log;
    const what = `the control bucket ${options.bucket} (a JetStream key-value bucket)`;
    const open = () =>
      js.views.kv(options.bucket, { history: 1, replicas: options.replicas }).catch((error: NatsError) => {
        // No responders: nothing answers on the JetStream API.
        if (error.code === '503')
          throw new HooksdError('HOOKSD_NATS_UNAVAILABLE', 'JetStream does not answer: is it enabled on this NATS?');
        throw error;
      });
    // The watch is started in the same try: on a cluster electing leaders, creating its
    // consumer can time out as opening the bucket can.
    const openAndWatch = async () => {
      const kv = await open();
      await this.startWatch(kv, undefined, FIRST_WATCH_TIMEOUT_MS);
      return kv;
    };
    const kv = await patiently(openAndWatch, {
      failFast: options.failFast,
      stopping: options.stopping,
      waiting: (error, retryInMs) =>
        log.warn(
          { bucket: options.bucket, retryInMs, reason: error.message },
          'the control bucket cannot be opened; hooksd tries again (set nats.failFast: true to exit instead)',
        ),
      giveUp: (error, stopped) =>
        new HooksdError(
          'HOOKSD_NATS_UNAVAILABLE',
          `${stopped ? 'stopped while waiting: ' : ''}cannot open ${what}: ${error.message}`,
        ),
    });
    this.kv = kv;
    void this.rewatchOnReconnect(nc, kv);
    log.info({ bucket: options.bucket, keys: this.entries.size }, 'control bucket open');
  }

  async stop(): Promise<void> {
    // The reconnection follower ends with the connection, or at its next status.
    this.kv = undefined;
    this.watch?.stop();
    await this.watching;
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  protected value<K extends ControlKind>(kind: K, id: string): ControlValues[K] | undefined {
    return this.entries.get(controlKey(kind, id))?.value as ControlValues[K] | undefined;
  }

  /** Every value of the kind; with `encodedPrefix`, of the keys whose encoded id starts with it. */
  protected all<K extends ControlKind>(kind: K, encodedPrefix = ''): ControlValues[K][] {
    const found: ControlValues[K][] = [];
    const prefix = `${kind}.${encodedPrefix}`;
    for (const [key, entry] of this.entries)
      if (entry.value !== undefined && key.startsWith(prefix)) found.push(entry.value as ControlValues[K]);
    return found;
  }

  protected async compareAndSet<K extends ControlKind>(
    kind: K,
    id: string,
    change: (current: ControlValues[K] | undefined) => ControlValues[K] | undefined,
  ): Promise<boolean> {
    const key = controlKey(kind, id);
    for (let tries = 1; ; tries++) {
      const entry = this.entries.get(key);
      const next = change(entry?.value as ControlValues[K] | undefined);
      if (next === undefined) return false;
      try {
        await this.write(kind, id, next, entry?.revision ?? 0);
        return true;
      } catch (error) {
        if ((error as NatsError).api_error?.err_code !== WRONG_REVISION || tries === CAS_TRIES) throw error;
        await this.reread(key);
      }
    }
  }

  /** Writes (or deletes, for undefined) and waits until this instance applied it. */
  protected async write<K extends ControlKind>(
    kind: K,
    id: string,
    value: ControlValues[K] | undefined,
    expectedRevision?: number,
  ): Promise<void> {
    const js = this.js;
    if (this.kv === undefined || js === undefined)
      throw new HooksdError(
        'HOOKSD_NATS_UNAVAILABLE',
        'the control bucket is not open yet: hooksd is waiting for NATS (see /readyz)',
      );
    const key = controlKey(kind, id);
    const h = headers();
    if (value === undefined) h.set('KV-Operation', 'DEL');
    if (expectedRevision !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(expectedRevision));
    const data = value === undefined ? Empty : Buffer.from(JSON.stringify(value));
    let revision: number;
    // No responders (503): the bucket's stream has no leader right now (just created on a
    // cluster, or a server of it lost); nothing was written, so the write is tried again.
    const until = Date.now() + NO_LEADER_WAIT_MS;
    for (;;) {
      try {
        revision = (await js.publish(`$KV.${this.bucket}.${key}`, data, { headers: h })).seq;
        break;
      } catch (error) {
        if ((error as NatsError).api_error?.err_code === WRONG_REVISION) throw error;
        if ((error as NatsError).code === '503' && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        throw new HooksdError(
          'HOOKSD_NATS_UNAVAILABLE',
          `cannot write ${key} to the control bucket ${this.bucket}: ${(error as Error).message}`,
        );
      }
    }
    if (!(await this.caughtUp(revision))) this.apply(key, value, revision);
  }

  /** Resolves to true once the watch brought `revision`, false after ECHO_WAIT_MS. */
  private caughtUp(revision: number): Promise<boolean> {
    if (this.seen >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, ECHO_WAIT_MS);
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Reads the key's last revision from the bucket, when a compare-and-set found this instance behind. */
  private async reread(key: string): Promise<void> {
    const entry = await (this.kv as KV).get(key);
    if (entry === null) return;
    this.take(entry);
  }

  /** Reads the bucket from `fromRevision` (from its last values, when left out) and keeps watching it. */
  private async startWatch(kv: KV, fromRevision?: number, timeoutMs?: number): Promise<void> {
    let initialized!: () => void;
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      initialized = resolve;
      if (timeoutMs !== undefined)
        timer = setTimeout(
          () => reject(new HooksdError('HOOKSD_NATS_UNAVAILABLE', 'the watch did not start')),
          timeoutMs,
        );
    });
    // The timer may fire while kv.watch is still pending (a nats-server just lost): handled by the await below,
    // not an unhandled rejection that ends the process.
    ready.catch(() => undefined);
    let watch: Awaited<ReturnType<KV['watch']>> | undefined;
    try {
      watch = await kv.watch({
        key: '>',
        initializedFn: () => initialized(),
        ...(fromRevision === undefined ? {} : { resumeFromRevision: fromRevision }),
      });
      this.watch = watch;
      this.watching = this.follow(watch);
      await ready;
    } catch (error) {
      watch?.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * After NATS comes back, watches again from the revision after the last one seen, at once:
   * the client's own watch would notice the loss only after some missed heartbeats (13 s
   * measured), and a change made meanwhile through another instance would wait that long.
   */
  private async rewatchOnReconnect(nc: NatsConnection, kv: KV): Promise<void> {
    for await (const status of nc.status()) {
      if (this.kv === undefined) return;
      if (status.type !== 'reconnect') continue;
      this.watch?.stop();
      await this.watching;
      while (this.kv !== undefined) {
        try {
          await this.startWatch(kv, this.seen + 1, REWATCH_TIMEOUT_MS);
          this.log?.info({ bucket: this.bucket, fromRevision: this.seen + 1 }, 'watching the control bucket again');
          break;
        } catch (error) {
          this.log?.warn(
            { bucket: this.bucket, reason: (error as Error).message, retryInMs: REWATCH_MS },
            'cannot watch the control bucket again yet',
          );
          await new Promise((resolve) => setTimeout(resolve, REWATCH_MS));
        }
      }
    }
  }

  private async follow(watch: QueuedIterator<KvEntry>): Promise<void> {
    try {
      for await (const entry of watch) {
        this.take(entry);
        if (entry.revision > this.seen) this.seen = entry.revision;
        if (this.waiters.length > 0) {
          const done = this.waiters.filter((w) => w.revision <= this.seen);
          this.waiters = this.waiters.filter((w) => w.revision > this.seen);
          for (const waiter of done) waiter.resolve();
        }
      }
    } catch (error) {
      this.log?.error({ err: error, bucket: this.bucket }, 'the watch of the control bucket ended');
    }
  }

  /** Applies an entry the watch brought or a read found, unless this instance has a later one of the key. */
  private take(entry: KvEntry): void {
    const parsed = parseControlKey(entry.key);
    if (parsed === undefined) return;
    if (entry.operation !== 'PUT') {
      this.apply(entry.key, undefined, entry.revision);
      return;
    }
    const value = readControlValue(parsed.kind, parsed.id, entry.value);
    if (value === undefined) {
      this.log?.warn(
        { bucket: this.bucket, key: entry.key, revision: entry.revision },
        'a value in the control bucket is not one hooksd wrote: skipped, the key keeps its last good value',
      );
      const known = this.entries.get(entry.key);
      this.entries.set(entry.key, { value: known?.value, revision: Math.max(known?.revision ?? 0, entry.revision) });
      return;
    }
    this.apply(entry.key, value, entry.revision);
  }

  private apply(key: string, value: unknown, revision: number): void {
    const known = this.entries.get(key);
    if (known !== undefined && known.revision >= revision) return;
    if (value === undefined) this.entries.set(key, { value: undefined, revision });
    else this.entries.set(key, { value, revision });
    const parsed = parseControlKey(key);
    if (parsed !== undefined) for (const listener of this.listeners) listener(parsed.kind, parsed.id);
  }
}
