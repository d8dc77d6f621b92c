import { LegacyControl } from './control.js';
import { ControlPlane } from './control-plane.js';
import { DueIndex } from './due-index.js';
import { Fanouts } from './fanouts.js';
import { GroupCommit, type BatchExtension } from './group-commit.js';
import {
  attemptKey,
  consumerStatusKey,
  deliveryMinuteKey,
  dueKey,
  HIGH,
  Keyspace,
  SEP,
  type BatchOp,
} from './keyspace.js';
import { Lists } from './lists.js';
import type {
  AttemptRecord,
  DeadLetterRecord,
  DeliveryMinuteRecord,
  EventRecord,
  MessageRecord,
  MessageStatus,
} from './records.js';
import { Scans } from './scans.js';
import { StatusCounter } from './status-counts.js';
import { WriteHealth } from './write-health.js';
import { HooksdError } from '../common/errors.js';

export type { BatchOp } from './keyspace.js';

/**
 * hooksd's LevelDB store: events, messages, attempts and dead letters with their indexes
 * (keyspace.ts), written atomically with group commit. Writers build operations with the op
 * builders below and hand them to `write`, so records that belong together (an event and its
 * fan-out, an attempt and its message's new status) land in one atomic write. Reads go
 * through the methods here and through `lists` (API pages), `scans` (long walks), `due` (the
 * due index). What all instances share (consumers created through the API, their state,
 * secrets and tasks) is in `control`, the control bucket in NATS JetStream, opened once NATS is
 * connected; `legacyControl` is where hooksd 0.2 kept it in LevelDB.
 */
export class Store {
  readonly lists: Lists;
  readonly scans: Scans;
  readonly due: DueIndex;
  readonly control: ControlPlane;
  readonly legacyControl: LegacyControl;
  /** Messages due at once that live in their event's fan-out record until first written (fanouts.ts). */
  readonly fanouts: Fanouts;
  /** Told after each write how many messages entered each status in it. */
  onStatusCounts: ((changes: Map<MessageStatus, number>) => void) | undefined;
  private readonly space: Keyspace;
  private readonly writer: GroupCommit;
  private readonly statuses: StatusCounter;
  private probes = 0;
  /** Whether writes work: parts that write wait on it, and readiness reports it. */
  readonly health: WriteHealth;

  constructor(readonly path: string) {
    this.space = new Keyspace(path);
    this.writer = new GroupCommit(this.space);
    this.statuses = new StatusCounter(this.space);
    this.fanouts = new Fanouts(this.space);
    this.writer.extend = both(
      this.statuses.extension((changes) => this.onStatusCounts?.(changes)),
      this.fanouts.extension(),
    );
    this.health = new WriteHealth(
      path,
      // A small synced write of its own, beside the status counts.
      async () => {
        await this.space.db.batch([{ type: 'put', sublevel: this.space.counters, key: 'probe', value: {} }], {
          sync: true,
        });
        this.probes += 1;
      },
      async () => {
        await this.space.db.close();
        await this.space.db.open();
      },
    );
    this.writer.outcome = this.health;
    this.lists = new Lists(this.space, this.fanouts);
    this.scans = new Scans(this.space, this.fanouts);
    this.due = new DueIndex(this.space, this.writer);
    this.control = new ControlPlane();
    this.legacyControl = new LegacyControl(this.space);
  }

  /**
   * Opens LevelDB; resolves to true when the store had no status counts yet (or none per
   * consumer) and its messages were counted (and indexed by consumer and status) once.
   * Messages a crash left in fan-out records are then written into the due index.
   */
  async start(): Promise<boolean> {
    try {
      await this.space.db.open();
    } catch (error) {
      throw openError(this.path, error);
    }
    const counted = await this.statuses.load();
    await this.writeOutFanouts();
    return counted;
  }

  /**
   * Gives every message still pending in a fan-out record its own record and due entry: at
   * open, for what a crash left, and at a graceful stop, so the hand-over finds them too.
   */
  writeOutFanouts(): Promise<number> {
    return this.fanouts.recover(
      (message) => this.firstOps(message),
      (ops) => this.write(ops, true),
    );
  }

  async stop(): Promise<void> {
    this.health.stop();
    await this.writer.idle();
    await this.space.db.close();
  }

  get isOpen(): boolean {
    return this.space.db.status === 'open';
  }

  /** Writes `ops` atomically, merged with concurrent writes (group commit); `sync` waits for the disk. */
  write(ops: BatchOp[], sync = false): Promise<void> {
    return this.writer.write(ops, sync);
  }

  /**
   * LevelDB operations written since the store was opened: each put and delete of every
   * batch, the status counts and health probes included (reads are not counted).
   */
  get operations(): number {
    return this.writer.operations + this.probes;
  }

  /** How many messages have `status` now, without reading the store. */
  countStatus(status: MessageStatus): number {
    return this.statuses.count(status);
  }

  /** How many of the consumer's messages have `status` now, without reading the store. */
  countConsumerStatus(consumerId: string, status: MessageStatus): number {
    return this.statuses.countOf(consumerId, status);
  }

  // ---- op builders: pure, so callers can put several records into one atomic write ----

  /**
   * A new event. `fanout`: its messages due at once (status sending), written in one fan-out
   * record instead of a record and index entries each (fanouts.ts).
   */
  eventOps(event: EventRecord, fanout: MessageRecord[] = []): BatchOp[] {
    const { events, eventsByTime, eventsByType, fanouts } = this.space;
    const record = fanout.length === 0 ? event : { ...event, fanout: fanout.map((m) => m.id) };
    const ops: BatchOp[] = [
      { type: 'put', sublevel: events, key: event.id, value: record },
      { type: 'put', sublevel: eventsByTime, key: event.seq, value: event.id },
      { type: 'put', sublevel: eventsByType, key: event.eventType + SEP + event.seq, value: event.id },
    ];
    if (fanout.length > 0)
      ops.push({ type: 'put', sublevel: fanouts, key: event.seq, value: { eventId: event.id, messages: fanout } });
    return ops;
  }

  /**
   * The first record of a message of a fan-out record, with its index entries (the event
   * lists it already) and its due entry when one is set. Its status index entries say it
   * leaves `sending` (the status counts had it there, in all and for its consumer, since the
   * fan-out record).
   */
  private firstOps(message: MessageRecord): BatchOp[] {
    const { messages, messagesByStatus, messagesByType, messagesByConsumerStatus } = this.space;
    const status: FirstStatusOp = {
      type: 'put',
      sublevel: messagesByStatus,
      key: message.status + SEP + message.id,
      value: '',
      fromFanout: true,
    };
    const consumerStatus: FirstStatusOp = {
      type: 'put',
      sublevel: messagesByConsumerStatus,
      key: consumerStatusKey(message),
      value: '',
      fromFanout: true,
    };
    const ops: BatchOp[] = [
      { type: 'put', sublevel: messages, key: message.id, value: message },
      status,
      consumerStatus,
      { type: 'put', sublevel: messagesByType, key: message.eventType + SEP + message.id, value: '' },
    ];
    if (message.nextAttemptAt !== null) ops.push(this.dueOp('put', message));
    return ops;
  }

  /**
   * Writes out messages of fan-out records into the due index as they stand (the sweeper does
   * it for those that waited too long for their lane); those written meanwhile are left out.
   */
  materializeOps(messages: MessageRecord[]): BatchOp[] {
    return messages.filter((m) => this.fanouts.has(m.id)).flatMap((m) => this.firstOps(m));
  }

  /** A new message, with its due entry when `nextAttemptAt` is set. */
  newMessageOps(message: MessageRecord): BatchOp[] {
    const { messages, messagesByStatus, messagesByType, messagesByEvent } = this.space;
    const ops: BatchOp[] = [
      { type: 'put', sublevel: messages, key: message.id, value: message },
      { type: 'put', sublevel: messagesByStatus, key: message.status + SEP + message.id, value: '' },
      { type: 'put', sublevel: messagesByType, key: message.eventType + SEP + message.id, value: '' },
      { type: 'put', sublevel: messagesByEvent, key: message.eventId + SEP + message.id, value: '' },
      { type: 'put', sublevel: this.space.messagesByConsumerStatus, key: consumerStatusKey(message), value: '' },
    ];
    if (message.nextAttemptAt !== null) ops.push(this.dueOp('put', message));
    return ops;
  }

  /**
   * Replaces `before` by `after`, moving its status index entries and its due entry; a message
   * of a fan-out record gets its first record and index entries.
   */
  messageUpdateOps(before: MessageRecord, after: MessageRecord): BatchOp[] {
    if (this.fanouts.has(before.id)) return this.firstOps(after);
    const { messages, messagesByStatus, messagesByConsumerStatus } = this.space;
    const ops: BatchOp[] = [{ type: 'put', sublevel: messages, key: after.id, value: after }];
    if (before.status !== after.status) {
      ops.push({ type: 'del', sublevel: messagesByStatus, key: before.status + SEP + before.id });
      ops.push({ type: 'put', sublevel: messagesByStatus, key: after.status + SEP + after.id, value: '' });
      ops.push({ type: 'del', sublevel: messagesByConsumerStatus, key: consumerStatusKey(before) });
      ops.push({ type: 'put', sublevel: messagesByConsumerStatus, key: consumerStatusKey(after), value: '' });
    }
    if (before.nextAttemptAt !== null && before.nextAttemptAt !== after.nextAttemptAt) {
      ops.push(this.dueOp('del', before));
    }
    if (after.nextAttemptAt !== null) ops.push(this.dueOp('put', after));
    return ops;
  }

  /** Removes a message with its index entries, due entry and attempts. */
  async messageDeleteOps(message: MessageRecord): Promise<BatchOp[]> {
    const { messages, messagesByConsumer, messagesByStatus, messagesByType, messagesByEvent, attempts } = this.space;
    const ops: BatchOp[] = [
      { type: 'del', sublevel: messages, key: message.id },
      // Stores written by 0.2.0 hold an entry by consumer alone; none is written any more (a
      // consumer's messages are listed through the index by consumer and status).
      { type: 'del', sublevel: messagesByConsumer, key: message.consumerId + SEP + message.id },
      { type: 'del', sublevel: messagesByStatus, key: message.status + SEP + message.id },
      { type: 'del', sublevel: messagesByType, key: message.eventType + SEP + message.id },
      { type: 'del', sublevel: messagesByEvent, key: message.eventId + SEP + message.id },
      { type: 'del', sublevel: this.space.messagesByConsumerStatus, key: consumerStatusKey(message) },
    ];
    if (message.nextAttemptAt !== null) ops.push(this.dueOp('del', message));
    for await (const key of attempts.keys({ gte: message.id + SEP, lt: message.id + SEP + HIGH })) {
      ops.push({ type: 'del', sublevel: attempts, key });
    }
    return ops;
  }

  eventDeleteOps(event: EventRecord): BatchOp[] {
    const { events, eventsByTime, eventsByType } = this.space;
    return [
      { type: 'del', sublevel: events, key: event.id },
      { type: 'del', sublevel: eventsByTime, key: event.seq },
      { type: 'del', sublevel: eventsByType, key: event.eventType + SEP + event.seq },
    ];
  }

  attemptOps(attempt: AttemptRecord): BatchOp[] {
    const key = attemptKey(attempt.messageId, attempt.attempt);
    return [{ type: 'put', sublevel: this.space.attempts, key, value: attempt }];
  }

  deadLetterOps(record: DeadLetterRecord): BatchOp[] {
    return [{ type: 'put', sublevel: this.space.deadLetters, key: record.id, value: record }];
  }

  /** Removes a dead letter, by the key `scans.deadLetterKeysBefore` gave. */
  deadLetterDeleteOps(key: string): BatchOp[] {
    return [{ type: 'del', sublevel: this.space.deadLetters, key }];
  }

  /** A consumer's minute of delivery stats, written over the one before. */
  deliveryMinuteOps(record: DeliveryMinuteRecord): BatchOp[] {
    const key = deliveryMinuteKey(record.minute, record.consumerId);
    return [{ type: 'put', sublevel: this.space.deliveryMinutes, key, value: record }];
  }

  /** Removes a minute of delivery stats, by the key `scans.deliveryMinuteKeysBefore` gave. */
  deliveryMinuteDeleteOps(key: string): BatchOp[] {
    return [{ type: 'del', sublevel: this.space.deliveryMinutes, key }];
  }

  private dueOp(type: 'put' | 'del', message: MessageRecord): BatchOp {
    const key = dueKey(message.consumerId, message.nextAttemptAt as number, message.id);
    return type === 'put'
      ? { type, sublevel: this.space.due, key, value: '' }
      : { type, sublevel: this.space.due, key };
  }

  // ---- point reads ----

  async getEvent(id: string): Promise<EventRecord | undefined> {
    return (await this.space.events.get(id)) ?? undefined;
  }

  /** Which of `ids` are already stored. */
  async existingEventIds(ids: string[]): Promise<Set<string>> {
    const found = await this.space.events.getMany(ids);
    return new Set(ids.filter((_, i) => found[i] !== undefined));
  }

  /** Event bodies by id, in one read. */
  async eventBodies(ids: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    const events = await this.space.events.getMany(unique);
    const bodies = new Map<string, string>();
    events.forEach((event, i) => event && bodies.set(unique[i], event.body));
    return bodies;
  }

  async getDeadLetter(id: string): Promise<DeadLetterRecord | undefined> {
    return (await this.space.deadLetters.get(id)) ?? undefined;
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    return (await this.space.messages.get(id)) ?? this.fanouts.message(id);
  }

  /** Every attempt of a message, oldest first. */
  async attemptsOf(messageId: string): Promise<AttemptRecord[]> {
    const prefix = messageId + SEP;
    return this.space.attempts.values({ gte: prefix, lt: prefix + HIGH }).all();
  }

  async getMessages(ids: string[]): Promise<(MessageRecord | undefined)[]> {
    const found = await this.space.messages.getMany(ids);
    return found.map((message, i) => message ?? this.fanouts.message(ids[i]));
  }
}

/** A status index entry of a message's first record: it leaves `sending` (status-counts.ts). */
export type FirstStatusOp = BatchOp & { fromFanout: true };

/** Both extensions on one batch. */
function both(first: BatchExtension, second: BatchExtension): BatchExtension {
  return (ops) => {
    const a = first(ops);
    const b = second(ops);
    if (a === undefined) return b;
    if (b === undefined) return a;
    return {
      extra: [...a.extra, ...b.extra],
      written: () => {
        a.written();
        b.written();
      },
    };
  };
}

/** What a LevelDB that will not open means for the operator, and what to do about it. */
function openError(path: string, error: unknown): HooksdError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.message ?? (error as Error).message;
  const advice =
    cause?.code === 'LEVEL_LOCKED'
      ? 'another process (another hooksd?) has it open: stop that one, or give this one its own storage.path'
      : cause?.code === 'LEVEL_CORRUPTION'
        ? 'its files are damaged: restore storage.path from a backup, or move it aside to start with an empty store'
        : 'check that the folder exists, is writable by hooksd and its disk is mounted';
  return new HooksdError('HOOKSD_STORAGE_UNAVAILABLE', `cannot open the store at ${path}: ${advice} (${detail})`);
}
