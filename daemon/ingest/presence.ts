import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';

/** How often an instance announces itself; one not heard for three of these counts as gone. */
export const ANNOUNCE_EVERY_MS = 2000;
const GONE_AFTER_MS = 3 * ANNOUNCE_EVERY_MS;
/** How often the live instances are looked at for one gone silent. */
const CHECK_EVERY_MS = 1000;

/** An instance as it announces itself. */
export interface InstanceSeen {
  id: string;
  /** The tag its message ids carry (store/ids.ts). */
  tag: string;
  startedAt: number;
  /** When it was last heard from (ms since the epoch, this instance's clock). */
  lastSeen: number;
}

interface Announcement {
  id: string;
  tag: string;
  startedAt: number;
  /** Tells apart two processes given the same id by mistake. */
  process: string;
  /** `hello`: just started, everyone answers at once; `leaving`: stopping, forget it now. */
  kind: 'hello' | 'here' | 'leaving';
}

/**
 * Which instances of the group are alive: each announces itself on a core NATS subject every
 * 2 s (nothing is kept in JetStream), and one not heard from for 6 s counts as gone. A new
 * instance says hello and the others answer at once, so it knows the group within a round
 * trip; a stopping one says it leaves. `watch` tells who is live whenever that changes.
 */
export class Presence {
  private readonly seen = new Map<string, InstanceSeen & { process: string }>();
  private readonly process = randomUUID();
  private readonly startedAt = Date.now();
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checker: NodeJS.Timeout | undefined;
  private readonly clashes = new Set<string>();
  private readonly watchers: Array<(liveIds: string[]) => void> = [];
  /** The live ids last told to the watchers. */
  private told = '';
  private left = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly self: { id: string; tag: string },
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subscription = this.nc.subscribe(this.subject, {
      callback: (error, msg) => {
        if (error === null) this.heard(msg.data);
      },
    });
    this.announce('hello');
    this.timer = setInterval(() => this.announce('here'), ANNOUNCE_EVERY_MS);
    this.checker = setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  /** Calls `listener` with the ids of the live instances now, and again whenever they change. */
  watch(listener: (liveIds: string[]) => void): void {
    this.watchers.push(listener);
    listener(this.live().map((instance) => instance.id));
  }

  /**
   * Says it leaves, so the others stop counting on it at once (and take its share of the
   * consumers' limits), while it still hears who is live: a stopping instance calls this once
   * it starts no more requests, before it hands its retries over.
   */
  leave(): void {
    if (this.left || this.subscription === undefined) return;
    this.left = true;
    clearInterval(this.timer);
    this.announce('leaving');
  }

  /** Says it leaves, if it did not yet, and stops listening. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.checker);
    if (this.subscription === undefined) return;
    this.leave();
    this.subscription.unsubscribe();
    this.subscription = undefined;
    await this.nc.flush().catch(() => undefined);
  }

  /** The live instances, this one included, by id. */
  live(): InstanceSeen[] {
    const now = Date.now();
    const others = [...this.seen.values()]
      .filter((instance) => now - instance.lastSeen < GONE_AFTER_MS)
      .map(({ id, tag, startedAt, lastSeen }) => ({ id, tag, startedAt, lastSeen }));
    const me = { ...this.self, startedAt: this.startedAt, lastSeen: now };
    return [me, ...others].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** How many other instances are alive now. */
  others(): number {
    return this.live().length - 1;
  }

  private announce(kind: Announcement['kind']): void {
    const announcement: Announcement = { ...this.self, startedAt: this.startedAt, process: this.process, kind };
    try {
      this.nc.publish(this.subject, JSON.stringify(announcement));
    } catch {
      // The connection is closing: the others notice the silence.
    }
  }

  private heard(data: Uint8Array): void {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(new TextDecoder().decode(data));
    } catch {
      return;
    }
    const { id, tag, startedAt, process, kind } = announcement;
    if (typeof id !== 'string' || typeof tag !== 'string' || process === this.process) return;
    if (id === this.self.id) {
      this.warnOnce(
        `id:${process}`,
        { instance: id },
        'another process announces the same instance.id: give each instance its own id (and storage.path)',
      );
      return;
    }
    if (kind === 'leaving') {
      this.seen.delete(id);
      this.log.info({ instance: id }, 'an instance left the group');
      this.check();
      return;
    }
    if (tag === this.self.tag)
      this.warnOnce(`tag:${id}`, { instance: id, tag }, 'another instance has the same id tag: rename one of them');
    if (!this.seen.has(id) || now() - this.seen.get(id)!.lastSeen >= GONE_AFTER_MS)
      this.log.info({ instance: id }, 'an instance joined the group');
    this.seen.set(id, { id, tag, startedAt: Number(startedAt), lastSeen: now(), process });
    if (kind === 'hello' && !this.left) this.announce('here');
    this.check();
  }

  /** Tells the watchers when the live instances changed: one joined or left, or fell silent. */
  private check(): void {
    const ids = this.live().map((instance) => instance.id);
    const key = ids.join(' ');
    if (key === this.told) return;
    this.told = key;
    for (const watcher of this.watchers) watcher(ids);
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.clashes.has(key)) return;
    this.clashes.add(key);
    this.log.warn(fields, message);
  }
}

const now = () => Date.now();
