import { afterLastSep, HIGH, SEP, type Keyspace } from './keyspace.js';
import { MESSAGE_STATUSES } from './records.js';

/** Keys read from each status's range at a time. */
const CHUNK = 64;

/** A range of keys `consumerId \0 msgId`, as the lists and scans ask for one. */
export interface KeyRange {
  gt?: string;
  gte?: string;
  lt?: string;
  reverse?: boolean;
}

interface Source {
  keys: { nextv(size: number): Promise<string[]>; close(): Promise<void> };
  ids: string[];
  at: number;
  done: boolean;
}

/**
 * A consumer's messages in id order (so by time), read from the index by consumer and status:
 * one range per status, merged. No index by consumer alone is written: a message's entry by
 * consumer and status is the one entry both lists need, which saves an operation per message
 * written. Keys come out as `consumerId \0 msgId`, the form the index by consumer had, so a
 * cursor or a task's saved position from before stays valid.
 */
export class ConsumerMessages {
  private readonly prefix: string;

  constructor(
    private readonly space: Keyspace,
    private readonly consumerId: string,
  ) {
    this.prefix = consumerId + SEP;
  }

  /** Entries `[key, '']` of the range, as a sublevel's iterator gives them (`nextv`, `close`). */
  iterator(range: KeyRange): MergedRange {
    return new MergedRange(this.space, this.consumerId, this.prefix, range);
  }

  /** The first `limit` keys of the range. */
  async keys(range: KeyRange & { limit: number }): Promise<string[]> {
    const iterator = this.iterator(range);
    try {
      return (await iterator.nextv(range.limit)).map(([key]) => key);
    } finally {
      await iterator.close();
    }
  }
}

export class MergedRange {
  private readonly sources: Source[];
  private readonly reverse: boolean;

  constructor(
    space: Keyspace,
    consumerId: string,
    private readonly prefix: string,
    range: KeyRange,
  ) {
    this.reverse = range.reverse === true;
    // The part of a bound after `consumerId \0`; every bound the lists and scans give starts with it.
    const part = (key: string) => (key.startsWith(prefix) ? key.slice(prefix.length) : key < prefix ? '' : HIGH);
    this.sources = MESSAGE_STATUSES.map((status) => {
      const start = consumerId + SEP + status + SEP;
      const options: { gt?: string; gte?: string; lt: string; reverse: boolean } = {
        lt: start + (range.lt === undefined ? HIGH : part(range.lt)),
        reverse: this.reverse,
      };
      if (range.gt !== undefined) options.gt = start + part(range.gt);
      else options.gte = start + (range.gte === undefined ? '' : part(range.gte));
      return { keys: space.messagesByConsumerStatus.keys(options), ids: [], at: 0, done: false };
    });
  }

  /** Up to `size` entries, fewer only at the range's end. */
  async nextv(size: number): Promise<[string, string][]> {
    const out: [string, string][] = [];
    while (out.length < size) {
      const empty = this.sources.filter((s) => s.at === s.ids.length && !s.done);
      if (empty.length > 0) await Promise.all(empty.map((s) => this.fill(s, size - out.length)));
      let best: Source | undefined;
      for (const s of this.sources) {
        if (s.at === s.ids.length) continue;
        if (best === undefined) best = s;
        else if (this.reverse ? s.ids[s.at] > best.ids[best.at] : s.ids[s.at] < best.ids[best.at]) best = s;
      }
      if (best === undefined) break;
      const id = best.ids[best.at];
      // A message that moved between two ranges' reads shows under both: it comes once.
      for (const s of this.sources) if (s.at < s.ids.length && s.ids[s.at] === id) s.at += 1;
      out.push([this.prefix + id, '']);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.keys.close()));
  }

  private async fill(source: Source, wanted: number): Promise<void> {
    const keys = await source.keys.nextv(Math.max(wanted, CHUNK));
    source.ids = keys.map(afterLastSep);
    source.at = 0;
    if (keys.length === 0) source.done = true;
  }
}
