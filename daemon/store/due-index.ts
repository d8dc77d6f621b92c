import type { MessageRecord } from './records.js';
import type { GroupCommit } from './group-commit.js';
import { dueKey, dueMessageId, dueTime, HIGH, SEP, type Keyspace } from './keyspace.js';

/** A due index entry with its message; none when the message no longer has that due time (a stale entry, to delete). */
export interface DueEntry {
  key: string;
  message: MessageRecord | undefined;
}

/**
 * The due index: one entry per message that waits for an attempt, keyed by consumer and due
 * time, so a sweep reads only what has fallen due, consumer by consumer. Entries are written
 * with their message (Store's op builders); here they are read and stale ones dropped.
 */
export class DueIndex {
  constructor(
    private readonly space: Keyspace,
    private readonly writer: GroupCommit,
  ) {}

  /** The consumers that have due entries (pending work), found by skipping from one consumer's entries to the next. */
  async *consumers(): AsyncGenerator<string> {
    const iterator = this.space.due.keys();
    try {
      for (;;) {
        const key = await iterator.next();
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
  async entries(consumerId: string, now: number, limit: number): Promise<DueEntry[]> {
    return this.messagesOf(await this.keys(consumerId, now, limit));
  }

  /** The keys of up to `limit` of the consumer's entries due at or before `now`, oldest first: no values read. */
  async keys(consumerId: string, now: number, limit: number): Promise<string[]> {
    const prefix = consumerId + SEP;
    return this.space.due.keys({ gte: prefix, lt: prefix + dueTime(now + 1), limit }).all();
  }

  /** Up to `limit` entries of every consumer, whatever their due time, after the key `after` (null: from the first). */
  async everyKey(after: string | null, limit: number): Promise<string[]> {
    return this.space.due.keys(after === null ? { limit } : { gt: after, limit }).all();
  }

  /** The messages of due entries, in one read; an entry whose message is gone or due at another time is stale. */
  async messagesOf(keys: string[]): Promise<DueEntry[]> {
    const found = await this.space.messages.getMany(keys.map(dueMessageId));
    return keys.map((key, i) => {
      const message = found[i];
      const current =
        message !== undefined &&
        message.nextAttemptAt !== null &&
        dueKey(message.consumerId, message.nextAttemptAt, message.id) === key;
      return { key, message: current ? message : undefined };
    });
  }

  /** The id of the message an entry is for. */
  messageId(key: string): string {
    return dueMessageId(key);
  }

  /** Deletes entries found stale (see messagesOf). */
  async drop(keys: string[]): Promise<void> {
    await this.writer.write(keys.map((key) => ({ type: 'del', sublevel: this.space.due, key })));
  }
}
