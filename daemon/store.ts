import { mkdirSync } from 'node:fs';
import { Level } from 'level';
import type { SecretRecord } from './secrets.js';
import type { AttemptRecord, ConsumerState, DeadLetterRecord, EventRecord, MessageRecord } from './records.js';

/**
 * hooksd's LevelDB keyspace. Primary records live in `events`, `messages`, `attempts` and
 * `deadLetters`; the other sublevels are indexes whose keys end in a sortable id, so every
 * list is a reverse range scan that stops after one page (lists.ts), and the due index lets the sweeper
 * read only what has fallen due, consumer by consumer, and only as much as each can take.
 *
 *   events            eventId                 → EventRecord
 *   eventsByTime      seq                     → eventId
 *   eventsByType      type \0 seq             → eventId
 *   messages          msgId                   → MessageRecord       (msgIds sort by time)
 *   messagesBy*       consumer|status|type|event \0 msgId → ''
 *   attempts          msgId \0 attemptNo      → AttemptRecord
 *   due               consumerId \0 dueAt \0 msgId → ''  (the message's nextAttemptAt, as a key)
 *   consumerState     consumerId              → ConsumerState
 *   deadLetters       dlqId                   → DeadLetterRecord
 *   secrets           consumerId              → SecretRecord (generated and rotated secrets)
 *   apiConsumers      consumerId              → ConsumerConfig (consumers created through the API)
 *   tasks             taskId                  → TaskRecord (bulk recover and replay-missing)
 */

export const SEP = '\x00';
export const HIGH = '\xff';
const DUE_WIDTH = 15;

// The abstract-level typings do not follow sublevel value types through a root batch, so ops stay loose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Sublevel = any;
export type BatchOp =
  { type: 'put'; sublevel: Sublevel; key: string; value: unknown } | { type: 'del'; sublevel: Sublevel; key: string };

/** A due index entry with its message; no message when the message no longer has that due time (a stale entry, to delete). */
export interface DueEntry {
  key: string;
  message: MessageRecord | undefined;
}

interface PendingWrite {
  ops: BatchOp[];
  sync: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const dueTime = (dueAt: number) => String(Math.max(0, Math.floor(dueAt))).padStart(DUE_WIDTH, '0');
const dueKey = (consumerId: string, dueAt: number, messageId: string) =>
  consumerId + SEP + dueTime(dueAt) + SEP + messageId;
/** The message id at the end of a due key. */
export const dueMessageId = (key: string) => key.slice(key.lastIndexOf(SEP) + 1);
const attemptKey = (messageId: string, attempt: number) => messageId + SEP + String(attempt).padStart(6, '0');

export class Store {
  private readonly db: Level<string, unknown>;
  readonly events: Sublevel;
  readonly eventsByTime: Sublevel;
  readonly eventsByType: Sublevel;
  readonly messages: Sublevel;
  readonly messagesByConsumer: Sublevel;
  readonly messagesByStatus: Sublevel;
  readonly messagesByType: Sublevel;
  readonly messagesByEvent: Sublevel;
  readonly attempts: Sublevel;
  readonly due: Sublevel;
  readonly deadLetters: Sublevel;
  readonly secrets: Sublevel;
  readonly consumerState: Sublevel;
  readonly apiConsumers: Sublevel;
  readonly tasks: Sublevel;
  /** Told after each write how many messages entered (+n) or left (-n) each status. */
  onStatusCounts: ((changes: Map<string, number>) => void) | undefined;
  private pending: PendingWrite[] = [];
  private writing = false;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    this.db = new Level<string, unknown>(path, { valueEncoding: 'json' });
    const sub = (name: string) => this.db.sublevel<string, unknown>(name, { valueEncoding: 'json' });
    this.events = sub('events');
    this.eventsByTime = sub('eventsByTime');
    this.eventsByType = sub('eventsByType');
    this.messages = sub('messages');
    this.messagesByConsumer = sub('messagesByConsumer');
    this.messagesByStatus = sub('messagesByStatus');
    this.messagesByType = sub('messagesByType');
    this.messagesByEvent = sub('messagesByEvent');
    this.attempts = sub('attempts');
    this.due = sub('due');
    this.deadLetters = sub('deadLetters');
    this.secrets = sub('secrets');
    this.consumerState = sub('consumerState');
    this.apiConsumers = sub('apiConsumers');
    this.tasks = sub('tasks');
  }

  async start(): Promise<void> {
    await this.db.open();
  }

  async stop(): Promise<void> {
    while (this.writing) await new Promise((resolve) => setImmediate(resolve));
    await this.db.close();
  }

  get isOpen(): boolean {
    return this.db.status === 'open';
  }

  /**
   * Writes `ops` atomically. Writes that arrive while another is in progress are merged into
   * the next batch (group commit), so many small writers cost one LevelDB write, and with
   * `sync` one fsync, between them.
   */
  write(ops: BatchOp[], sync = false): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, sync, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      const ops = group.length === 1 ? group[0].ops : group.flatMap((w) => w.ops);
      try {
        await this.db.batch(ops as never, { sync: group.some((w) => w.sync) });
        if (this.onStatusCounts) this.onStatusCounts(this.statusChanges(ops));
        for (const w of group) w.resolve();
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
    this.writing = false;
  }

  /** The status index entries a write added and removed, per status. */
  private statusChanges(ops: BatchOp[]): Map<string, number> {
    const changes = new Map<string, number>();
    for (const op of ops) {
      if (op.sublevel !== this.messagesByStatus) continue;
      const status = op.key.slice(0, op.key.indexOf(SEP));
      changes.set(status, (changes.get(status) ?? 0) + (op.type === 'put' ? 1 : -1));
    }
    return changes;
  }

  /** How many messages have `status` now: one scan of that part of the status index. */
  async countStatus(status: string): Promise<number> {
    let count = 0;
    for await (const _key of this.messagesByStatus.keys({ gte: status + SEP, lt: status + SEP + HIGH })) count += 1;
    return count;
  }

  // ---- ops builders: pure, so callers can put several records into one atomic write ----

  eventOps(event: EventRecord): BatchOp[] {
    return [
      { type: 'put', sublevel: this.events, key: event.id, value: event },
      { type: 'put', sublevel: this.eventsByTime, key: event.seq, value: event.id },
      { type: 'put', sublevel: this.eventsByType, key: event.eventType + SEP + event.seq, value: event.id },
    ];
  }

  /** A new message, with its due entry when `nextAttemptAt` is set. */
  newMessageOps(message: MessageRecord): BatchOp[] {
    const ops: BatchOp[] = [
      { type: 'put', sublevel: this.messages, key: message.id, value: message },
      { type: 'put', sublevel: this.messagesByConsumer, key: message.consumerId + SEP + message.id, value: '' },
      { type: 'put', sublevel: this.messagesByStatus, key: message.status + SEP + message.id, value: '' },
      { type: 'put', sublevel: this.messagesByType, key: message.eventType + SEP + message.id, value: '' },
      { type: 'put', sublevel: this.messagesByEvent, key: message.eventId + SEP + message.id, value: '' },
    ];
    if (message.nextAttemptAt !== null) ops.push(this.dueOp('put', message));
    return ops;
  }

  /** Replaces `before` by `after`, moving its status index entry and its due entry. */
  messageUpdateOps(before: MessageRecord, after: MessageRecord): BatchOp[] {
    const ops: BatchOp[] = [{ type: 'put', sublevel: this.messages, key: after.id, value: after }];
    if (before.status !== after.status) {
      ops.push({ type: 'del', sublevel: this.messagesByStatus, key: before.status + SEP + before.id });
      ops.push({ type: 'put', sublevel: this.messagesByStatus, key: after.status + SEP + after.id, value: '' });
    }
    if (before.nextAttemptAt !== null && before.nextAttemptAt !== after.nextAttemptAt)
      ops.push(this.dueOp('del', before));
    if (after.nextAttemptAt !== null) ops.push(this.dueOp('put', after));
    return ops;
  }

  /** Removes a message with its index entries, due entry and attempts. */
  async messageDeleteOps(message: MessageRecord): Promise<BatchOp[]> {
    const ops: BatchOp[] = [
      { type: 'del', sublevel: this.messages, key: message.id },
      { type: 'del', sublevel: this.messagesByConsumer, key: message.consumerId + SEP + message.id },
      { type: 'del', sublevel: this.messagesByStatus, key: message.status + SEP + message.id },
      { type: 'del', sublevel: this.messagesByType, key: message.eventType + SEP + message.id },
      { type: 'del', sublevel: this.messagesByEvent, key: message.eventId + SEP + message.id },
    ];
    if (message.nextAttemptAt !== null) ops.push(this.dueOp('del', message));
    for await (const key of this.attempts.keys({ gte: message.id + SEP, lt: message.id + SEP + HIGH }))
      ops.push({ type: 'del', sublevel: this.attempts, key });
    return ops;
  }

  eventDeleteOps(event: EventRecord): BatchOp[] {
    return [
      { type: 'del', sublevel: this.events, key: event.id },
      { type: 'del', sublevel: this.eventsByTime, key: event.seq },
      { type: 'del', sublevel: this.eventsByType, key: event.eventType + SEP + event.seq },
    ];
  }

  attemptOps(attempt: AttemptRecord): BatchOp[] {
    return [
      { type: 'put', sublevel: this.attempts, key: attemptKey(attempt.messageId, attempt.attempt), value: attempt },
    ];
  }

  deadLetterOps(record: DeadLetterRecord): BatchOp[] {
    return [{ type: 'put', sublevel: this.deadLetters, key: record.id, value: record }];
  }

  private dueOp(type: 'put' | 'del', message: MessageRecord): BatchOp {
    const key = dueKey(message.consumerId, message.nextAttemptAt as number, message.id);
    return type === 'put' ? { type, sublevel: this.due, key, value: '' } : { type, sublevel: this.due, key };
  }

  // ---- reads ----

  async getEvent(id: string): Promise<EventRecord | undefined> {
    return (await this.events.get(id)) ?? undefined;
  }

  /** Which of `ids` are already stored. */
  async existingEventIds(ids: string[]): Promise<Set<string>> {
    const found: (EventRecord | undefined)[] = await this.events.getMany(ids);
    return new Set(ids.filter((_, i) => found[i] !== undefined));
  }

  async getSecrets(consumerId: string): Promise<SecretRecord | undefined> {
    return (await this.secrets.get(consumerId)) ?? undefined;
  }

  async putSecrets(consumerId: string, record: SecretRecord): Promise<void> {
    await this.write([{ type: 'put', sublevel: this.secrets, key: consumerId, value: record }], true);
  }

  async getConsumerStates(ids: string[]): Promise<(ConsumerState | undefined)[]> {
    return this.consumerState.getMany(ids);
  }

  async putConsumerState(consumerId: string, state: ConsumerState): Promise<void> {
    await this.write([{ type: 'put', sublevel: this.consumerState, key: consumerId, value: state }], true);
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    return (await this.messages.get(id)) ?? undefined;
  }

  async getMessages(ids: string[]): Promise<(MessageRecord | undefined)[]> {
    return this.messages.getMany(ids);
  }

  /** The consumers that have due entries (pending work), found by skipping from one consumer's entries to the next. */
  async *consumersWithDueEntries(): AsyncGenerator<string> {
    const iterator = this.due.keys();
    try {
      for (;;) {
        const key: string | undefined = await iterator.next();
        if (key === undefined) return;
        const consumerId = key.slice(0, key.indexOf(SEP));
        yield consumerId;
        iterator.seek(consumerId + SEP + HIGH);
      }
    } finally {
      await iterator.close();
    }
  }

  /** Up to `limit` of the consumer's due entries with a due time at or before `now`, oldest first. */
  async dueFor(consumerId: string, now: number, limit: number): Promise<DueEntry[]> {
    return this.dueMessages(await this.dueKeys(consumerId, now, limit));
  }

  /** The keys of up to `limit` of the consumer's due entries at or before `now`, oldest first: a cheap read, no values. */
  async dueKeys(consumerId: string, now: number, limit: number): Promise<string[]> {
    const prefix = consumerId + SEP;
    return this.due.keys({ gte: prefix, lt: prefix + dueTime(now + 1), limit }).all();
  }

  /** The messages of due entries, in one read; an entry whose message is gone or due at another time is stale. */
  async dueMessages(keys: string[]): Promise<DueEntry[]> {
    const found: (MessageRecord | undefined)[] = await this.messages.getMany(keys.map(dueMessageId));
    return keys.map((key, i) => {
      const message = found[i];
      const current =
        message !== undefined &&
        message.nextAttemptAt !== null &&
        dueKey(message.consumerId, message.nextAttemptAt, message.id) === key;
      return { key, message: current ? message : undefined };
    });
  }

  /** Deletes due entries found stale (see dueMessages). */
  async dropDueEntries(keys: string[]): Promise<void> {
    await this.write(keys.map((key) => ({ type: 'del', sublevel: this.due, key })));
  }

  /** Event bodies by id, in one read. */
  async eventBodies(ids: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    const events: (EventRecord | undefined)[] = await this.events.getMany(unique);
    const bodies = new Map<string, string>();
    events.forEach((event, i) => event && bodies.set(unique[i], event.body));
    return bodies;
  }
}
