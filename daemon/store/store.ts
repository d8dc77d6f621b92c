import { ControlRecords } from './control.js';
import { DueIndex } from './due-index.js';
import { GroupCommit } from './group-commit.js';
import { attemptKey, dueKey, HIGH, Keyspace, SEP, type BatchOp } from './keyspace.js';
import { Lists } from './lists.js';
import type { AttemptRecord, DeadLetterRecord, EventRecord, MessageRecord, MessageStatus } from './records.js';
import { Scans } from './scans.js';

export type { BatchOp } from './keyspace.js';

/**
 * hooksd's LevelDB store: events, messages, attempts and dead letters with their indexes
 * (keyspace.ts), written atomically with group commit. Writers build operations with the op
 * builders below and hand them to `write`, so records that belong together (an event and its
 * fan-out, an attempt and its message's new status) land in one atomic write. Reads go
 * through the methods here and through `lists` (API pages), `scans` (long walks), `due` (the
 * due index) and `control` (consumers, secrets and tasks).
 */
export class Store {
  readonly lists: Lists;
  readonly scans: Scans;
  readonly due: DueIndex;
  readonly control: ControlRecords;
  /** Told after each write how many messages entered (+n) or left (-n) each status. */
  onStatusCounts: ((changes: Map<string, number>) => void) | undefined;
  private readonly space: Keyspace;
  private readonly writer: GroupCommit;

  constructor(readonly path: string) {
    this.space = new Keyspace(path);
    this.writer = new GroupCommit(this.space);
    this.writer.onWritten = (ops) => this.onStatusCounts?.(this.statusChanges(ops));
    this.lists = new Lists(this.space);
    this.scans = new Scans(this.space);
    this.due = new DueIndex(this.space, this.writer);
    this.control = new ControlRecords(this.space, this.writer);
  }

  async start(): Promise<void> {
    await this.space.db.open();
  }

  async stop(): Promise<void> {
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

  /** The status index entries a write added and removed, per status. */
  private statusChanges(ops: readonly BatchOp[]): Map<string, number> {
    const changes = new Map<string, number>();
    for (const op of ops) {
      if (op.sublevel !== this.space.messagesByStatus) continue;
      const status = op.key.slice(0, op.key.indexOf(SEP));
      changes.set(status, (changes.get(status) ?? 0) + (op.type === 'put' ? 1 : -1));
    }
    return changes;
  }

  /** How many messages have `status` now: one scan of that part of the status index. */
  async countStatus(status: MessageStatus): Promise<number> {
    let count = 0;
    const range = { gte: status + SEP, lt: status + SEP + HIGH };
    for await (const _key of this.space.messagesByStatus.keys(range)) count += 1;
    return count;
  }

  // ---- op builders: pure, so callers can put several records into one atomic write ----

  eventOps(event: EventRecord): BatchOp[] {
    const { events, eventsByTime, eventsByType } = this.space;
    return [
      { type: 'put', sublevel: events, key: event.id, value: event },
      { type: 'put', sublevel: eventsByTime, key: event.seq, value: event.id },
      { type: 'put', sublevel: eventsByType, key: event.eventType + SEP + event.seq, value: event.id },
    ];
  }

  /** A new message, with its due entry when `nextAttemptAt` is set. */
  newMessageOps(message: MessageRecord): BatchOp[] {
    const { messages, messagesByConsumer, messagesByStatus, messagesByType, messagesByEvent } = this.space;
    const ops: BatchOp[] = [
      { type: 'put', sublevel: messages, key: message.id, value: message },
      { type: 'put', sublevel: messagesByConsumer, key: message.consumerId + SEP + message.id, value: '' },
      { type: 'put', sublevel: messagesByStatus, key: message.status + SEP + message.id, value: '' },
      { type: 'put', sublevel: messagesByType, key: message.eventType + SEP + message.id, value: '' },
      { type: 'put', sublevel: messagesByEvent, key: message.eventId + SEP + message.id, value: '' },
    ];
    if (message.nextAttemptAt !== null) ops.push(this.dueOp('put', message));
    return ops;
  }

  /** Replaces `before` by `after`, moving its status index entry and its due entry. */
  messageUpdateOps(before: MessageRecord, after: MessageRecord): BatchOp[] {
    const { messages, messagesByStatus } = this.space;
    const ops: BatchOp[] = [{ type: 'put', sublevel: messages, key: after.id, value: after }];
    if (before.status !== after.status) {
      ops.push({ type: 'del', sublevel: messagesByStatus, key: before.status + SEP + before.id });
      ops.push({ type: 'put', sublevel: messagesByStatus, key: after.status + SEP + after.id, value: '' });
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
      { type: 'del', sublevel: messagesByConsumer, key: message.consumerId + SEP + message.id },
      { type: 'del', sublevel: messagesByStatus, key: message.status + SEP + message.id },
      { type: 'del', sublevel: messagesByType, key: message.eventType + SEP + message.id },
      { type: 'del', sublevel: messagesByEvent, key: message.eventId + SEP + message.id },
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

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    return (await this.space.messages.get(id)) ?? undefined;
  }

  async getMessages(ids: string[]): Promise<(MessageRecord | undefined)[]> {
    return this.space.messages.getMany(ids);
  }
}
