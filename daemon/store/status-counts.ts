import type { BatchExtension } from './group-commit.js';
import { HIGH, SEP, type BatchOp, type Keyspace } from './keyspace.js';
import { MESSAGE_STATUSES, type FanoutRecord, type MessageStatus, type StatusCounts } from './records.js';

const KEY = 'statusCounts';

/**
 * How many messages have each status, kept without scanning: every batch that moves status
 * index entries also writes the new counts, in the same atomic write, so they are right after
 * a crash. A store written before the counts existed is counted once, when it is opened.
 */
export class StatusCounter {
  private counts: StatusCounts = {};

  constructor(private readonly space: Keyspace) {}

  /** Reads the counts; true when there were none yet and the status index had to be counted. */
  async load(): Promise<boolean> {
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
    await this.space.counters.put(KEY, this.counts);
    return true;
  }

  count(status: MessageStatus): number {
    return this.counts[status] ?? 0;
  }

  /**
   * Adds the new counts to each batch that moves status index entries; `changed` hears of the
   * moves once the batch is written.
   */
  extension(changed: (changes: Map<MessageStatus, number>) => void): BatchExtension {
    return (ops) => {
      const changes = this.changesIn(ops);
      if (changes.size === 0) return undefined;
      const next = { ...this.counts };
      for (const [status, delta] of changes) next[status] = (next[status] ?? 0) + delta;
      const extra: BatchOp[] = [{ type: 'put', sublevel: this.space.counters, key: KEY, value: next }];
      return {
        extra,
        written: () => {
          this.counts = next;
          changed(changes);
        },
      };
    };
  }

  /**
   * The status index entries a batch adds and removes, per status. The messages of a fan-out
   * record count as `sending` from when it is written until their first record is (its status
   * entry says so: `fromFanout`).
   */
  private changesIn(ops: readonly BatchOp[]): Map<MessageStatus, number> {
    const changes = new Map<MessageStatus, number>();
    const add = (status: MessageStatus, delta: number) => changes.set(status, (changes.get(status) ?? 0) + delta);
    for (const op of ops) {
      if (op.sublevel === this.space.fanouts && op.type === 'put') {
        add('sending', (op.value as FanoutRecord).messages.length);
        continue;
      }
      if (op.sublevel !== this.space.messagesByStatus) continue;
      add(op.key.slice(0, op.key.indexOf(SEP)) as MessageStatus, op.type === 'put' ? 1 : -1);
      if ((op as { fromFanout?: boolean }).fromFanout) add('sending', -1);
    }
    return changes;
  }
}
