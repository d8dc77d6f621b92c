import type { BatchExtension } from './group-commit.js';
import type { BatchOp, Keyspace } from './keyspace.js';
import type { FanoutRecord, MessageRecord } from './records.js';

interface Pending {
  /** The key of the event's fan-out record. */
  seq: string;
  message: MessageRecord;
}

/**
 * Messages that exist only in their event's fan-out record: made at ingest, due at once and
 * handed straight to the dispatcher, with no record or index entry of their own. Ingest
 * writes one record per event (`fanouts`, keyed by the event's seq) instead of a record, four
 * index entries and a due entry per message. A message gets its own record and index entries
 * the first time it is written (its first attempt's outcome, a cancel, or when the sweeper
 * moves it into the due index because it waited too long); the fan-out record is deleted in
 * the batch that writes the last of its messages. What a crash leaves in `fanouts` is
 * written out into the due index when the store opens (`recover`).
 *
 * The messages still pending this way are held here, in memory, so that the store's reads
 * (by id, the lists) see them as they see any message.
 */
export class Fanouts {
  private readonly pending = new Map<string, Pending>();
  /** Per fan-out record, how many of its messages have no record of their own yet. */
  private readonly open = new Map<string, number>();
  /** Pending message ids by consumer, oldest first. */
  private readonly byConsumer = new Map<string, Set<string>>();

  constructor(private readonly space: Keyspace) {}

  /** The message, while it has no record of its own. */
  message(id: string): MessageRecord | undefined {
    return this.pending.get(id)?.message;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Every message pending here. */
  *all(): IterableIterator<MessageRecord> {
    for (const { message } of this.pending.values()) yield message;
  }

  /** How many of the consumer's messages are pending here. */
  countOf(consumerId: string): number {
    return this.byConsumer.get(consumerId)?.size ?? 0;
  }

  /** The consumers with messages pending here. */
  consumers(): string[] {
    return [...this.byConsumer.keys()];
  }

  /** The consumer's messages pending here, oldest first. */
  *of(consumerId: string): IterableIterator<MessageRecord> {
    for (const id of this.byConsumer.get(consumerId) ?? []) {
      const found = this.pending.get(id);
      if (found !== undefined) yield found.message;
    }
  }

  /**
   * Follows each batch: its fan-out records add pending messages once written; a message
   * written on its own leaves, and the fan-out record whose last message it was is deleted in
   * the same batch.
   */
  extension(): BatchExtension {
    return (ops) => {
      let added: [string, FanoutRecord][] | undefined;
      let settled: Set<string> | undefined;
      for (const op of ops) {
        if (op.type !== 'put') continue;
        if (op.sublevel === this.space.fanouts) (added ??= []).push([op.key, op.value as FanoutRecord]);
        else if (op.sublevel === this.space.messages && this.pending.has(op.key)) (settled ??= new Set()).add(op.key);
      }
      if (added === undefined && settled === undefined) return undefined;
      const extra: BatchOp[] = [];
      const left = new Map<string, number>();
      for (const id of settled ?? []) {
        const { seq } = this.pending.get(id) as Pending;
        left.set(seq, (left.get(seq) ?? (this.open.get(seq) as number)) - 1);
      }
      for (const [seq, count] of left)
        if (count === 0) extra.push({ type: 'del', sublevel: this.space.fanouts, key: seq });
      return {
        extra,
        written: () => {
          for (const [seq, record] of added ?? []) this.add(seq, record);
          for (const id of settled ?? []) this.settle(id);
        },
      };
    };
  }

  /**
   * Writes out what a crash left: each fan-out record's messages that have no record of their
   * own get one (`firstOps`: record, indexes, due entry) and the fan-out record goes.
   */
  async recover(
    firstOps: (message: MessageRecord) => BatchOp[],
    write: (ops: BatchOp[]) => Promise<void>,
  ): Promise<number> {
    let recovered = 0;
    for (;;) {
      const entries = await this.space.fanouts.iterator({ limit: 100 }).all();
      if (entries.length === 0) return recovered;
      const ops: BatchOp[] = [];
      for (const [seq, record] of entries) {
        const found = await this.space.messages.getMany(record.messages.map((m) => m.id));
        record.messages.forEach((message, i) => {
          if (found[i] !== undefined) return;
          ops.push(...firstOps(message));
          recovered += 1;
        });
        ops.push({ type: 'del', sublevel: this.space.fanouts, key: seq });
      }
      await write(ops);
    }
  }

  private add(seq: string, record: FanoutRecord): void {
    this.open.set(seq, record.messages.length);
    for (const message of record.messages) {
      this.pending.set(message.id, { seq, message });
      let ids = this.byConsumer.get(message.consumerId);
      if (ids === undefined) this.byConsumer.set(message.consumerId, (ids = new Set()));
      ids.add(message.id);
    }
  }

  private settle(id: string): void {
    const found = this.pending.get(id);
    if (found === undefined) return;
    this.pending.delete(id);
    const ids = this.byConsumer.get(found.message.consumerId);
    ids?.delete(id);
    if (ids?.size === 0) this.byConsumer.delete(found.message.consumerId);
    const count = (this.open.get(found.seq) as number) - 1;
    if (count === 0) this.open.delete(found.seq);
    else this.open.set(found.seq, count);
  }
}
