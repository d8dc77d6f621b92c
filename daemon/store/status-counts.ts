import type { BatchExtension } from './group-commit.js';
import { consumerStatusKey, HIGH, SEP, type BatchOp, type Keyspace } from './keyspace.js';
import {
  MESSAGE_STATUSES,
  type FanoutRecord,
  type MessageRecord,
  type MessageStatus,
  type StatusCounts,
} from './records.js';

const KEY = 'statusCounts';
/** Counts of one consumer live under this prefix and its id. */
const CONSUMER_PREFIX = 'consumer' + SEP;
/** Written once the index by consumer and status was built, and the counts per consumer with it. */
const CONSUMER_INDEX_BUILT = 'consumerStatusIndex';
/** Messages read per write while building the index by consumer and status. */
const BUILD_STEP = 1000;

/**
 * How many messages have each status, in all and per consumer, kept without scanning: every
 * batch that moves status index entries also writes the new counts, in the same atomic write,
 * so they are right after a crash. A store written before the counts existed is counted once,
 * when it is opened; one written before the index by consumer and status existed gets that
 * index built, and counted, once.
 *
 * The messages of a fan-out record (fanouts.ts) have no index entries until their first write:
 * they count as `sending`, in all and for their consumer, from the batch that writes the
 * fan-out record to the one that writes their first record (whose status entries say so:
 * `fromFanout`).
 */
export class StatusCounter {
  private counts: StatusCounts = {};
  private readonly byConsumer = new Map<string, StatusCounts>();

  constructor(private readonly space: Keyspace) {}

  /** Reads the counts; true when some were missing and had to be counted from the store. */
  async load(): Promise<boolean> {
    const counted = await this.loadTotals();
    const built = await this.loadPerConsumer();
    return counted || built;
  }

  count(status: MessageStatus): number {
    return this.counts[status] ?? 0;
  }

  countOf(consumerId: string, status: MessageStatus): number {
    return this.byConsumer.get(consumerId)?.[status] ?? 0;
  }

  /**
   * Adds the new counts to each batch that moves status index entries; `changed` hears, once the
   * batch is written, how many messages entered each status in it (a message that entered and
   * left a status within one batch counts too: the counts' net change would not show it).
   */
  extension(changed: (changes: Map<MessageStatus, number>) => void): BatchExtension {
    return (ops) => {
      const { totals, perConsumer, entered } = this.changesIn(ops);
      if (totals.size === 0 && perConsumer.size === 0 && entered.size === 0) return undefined;
      const extra: BatchOp[] = [];
      const next = { ...this.counts };
      for (const [status, delta] of totals) next[status] = (next[status] ?? 0) + delta;
      if (totals.size > 0) extra.push({ type: 'put', sublevel: this.space.counters, key: KEY, value: next });
      const nextOf = new Map<string, StatusCounts>();
      for (const [consumerId, deltas] of perConsumer) {
        const counts = { ...this.byConsumer.get(consumerId) };
        for (const [status, delta] of deltas) counts[status] = (counts[status] ?? 0) + delta;
        nextOf.set(consumerId, counts);
        const key = CONSUMER_PREFIX + consumerId;
        // A consumer without messages leaves no record behind.
        extra.push(
          Object.values(counts).every((n) => n === 0)
            ? { type: 'del', sublevel: this.space.counters, key }
            : { type: 'put', sublevel: this.space.counters, key, value: counts },
        );
      }
      return {
        extra,
        written: () => {
          this.counts = next;
          for (const [consumerId, counts] of nextOf) this.byConsumer.set(consumerId, counts);
          if (entered.size > 0) changed(entered);
        },
      };
    };
  }

  private async loadTotals(): Promise<boolean> {
    const stored = await this.space.counters.get(KEY);
    if (stored !== undefined) {
      this.counts = stored;
      return false;
    }
    for (const status of MESSAGE_STATUSES) {
      let count = 0;
      for await (const _key of this.space.messagesByStatus.keys({ gte: status + SEP, lt: status + SEP + HIGH })) {
        count += 1;
      }
      this.counts[status] = count;
    }
    for await (const _message of this.pendingInFanouts()) this.counts.sending = (this.counts.sending ?? 0) + 1;
    await this.space.counters.put(KEY, this.counts);
    return true;
  }

  private async loadPerConsumer(): Promise<boolean> {
    const { counters } = this.space;
    if ((await counters.get(CONSUMER_INDEX_BUILT)) !== undefined) {
      for await (const [key, counts] of counters.iterator({ gte: CONSUMER_PREFIX, lt: CONSUMER_PREFIX + HIGH })) {
        this.byConsumer.set(key.slice(CONSUMER_PREFIX.length), counts);
      }
      return false;
    }
    await this.buildConsumerIndex();
    return true;
  }

  /**
   * Indexes every stored message by consumer and status and counts them, in steps; the mark
   * is written last, so a build cut short is done again from the start (the entries it wrote
   * are written again, the counts made afresh).
   */
  private async buildConsumerIndex(): Promise<void> {
    const { db, messages, messagesByConsumerStatus, counters } = this.space;
    const counted = new Map<string, StatusCounts>();
    const count = (message: MessageRecord) => {
      const counts = counted.get(message.consumerId) ?? {};
      counts[message.status] = (counts[message.status] ?? 0) + 1;
      counted.set(message.consumerId, counts);
    };
    let step: BatchOp[] = [];
    for await (const message of messages.values()) {
      step.push({ type: 'put', sublevel: messagesByConsumerStatus, key: consumerStatusKey(message), value: '' });
      count(message);
      if (step.length === BUILD_STEP) {
        await db.batch(step);
        step = [];
      }
    }
    // Those of fan-out records have no entry until their first write, but count as `sending`.
    for await (const message of this.pendingInFanouts()) count(message);
    for (const [consumerId, counts] of counted) {
      step.push({ type: 'put', sublevel: counters, key: CONSUMER_PREFIX + consumerId, value: counts });
      this.byConsumer.set(consumerId, counts);
    }
    step.push({ type: 'put', sublevel: counters, key: CONSUMER_INDEX_BUILT, value: {} });
    await db.batch(step, { sync: true });
  }

  /**
   * The status index entries a batch adds and removes, per status, and per consumer and status;
   * a fan-out record's messages enter `sending`, and leave it with their first status entries.
   */
  private changesIn(ops: readonly BatchOp[]) {
    const totals = new Map<MessageStatus, number>();
    const entered = new Map<MessageStatus, number>();
    const enter = (status: MessageStatus, count: number) => entered.set(status, (entered.get(status) ?? 0) + count);
    const perConsumer = new Map<string, Map<MessageStatus, number>>();
    const addTotal = (status: MessageStatus, delta: number) => totals.set(status, (totals.get(status) ?? 0) + delta);
    const addOf = (consumerId: string, status: MessageStatus, delta: number) => {
      const deltas = perConsumer.get(consumerId) ?? new Map<MessageStatus, number>();
      deltas.set(status, (deltas.get(status) ?? 0) + delta);
      perConsumer.set(consumerId, deltas);
    };
    for (const op of ops) {
      const delta = op.type === 'put' ? 1 : -1;
      const fromFanout = (op as { fromFanout?: boolean }).fromFanout === true;
      if (op.sublevel === this.space.messagesByStatus) {
        const status = op.key.slice(0, op.key.indexOf(SEP)) as MessageStatus;
        addTotal(status, delta);
        if (fromFanout) addTotal('sending', -1);
        // A message of a fan-out record entered `sending` with the record.
        if (op.type === 'put' && !(fromFanout && status === 'sending')) enter(status, 1);
      } else if (op.sublevel === this.space.messagesByConsumerStatus) {
        const [consumerId, status] = op.key.split(SEP) as [string, MessageStatus];
        addOf(consumerId, status, delta);
        if (fromFanout) addOf(consumerId, 'sending', -1);
      } else if (op.sublevel === this.space.fanouts && op.type === 'put') {
        const { messages } = op.value as FanoutRecord;
        addTotal('sending', messages.length);
        enter('sending', messages.length);
        for (const message of messages) addOf(message.consumerId, 'sending', 1);
      }
    }
    return { totals, perConsumer, entered };
  }

  /** The messages of fan-out records that have no record of their own (a crash's leftovers, before `recover`). */
  private async *pendingInFanouts(): AsyncGenerator<MessageRecord> {
    for await (const record of this.space.fanouts.values()) {
      const found = await this.space.messages.getMany(record.messages.map((m) => m.id));
      for (let i = 0; i < found.length; i++) if (found[i] === undefined) yield record.messages[i];
    }
  }
}
