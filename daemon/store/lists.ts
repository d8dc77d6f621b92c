/**
 * The paged lists of the API: reverse range scans over the store's primary records and
 * indexes, newest first, that stop after one page. A cursor is the last key read, so a walk
 * stays right while records keep arriving.
 */
import { HooksdError } from '../common/errors.js';
import { sortableIdFloor } from './ids.js';
import { ConsumerMessages } from './consumer-messages.js';
import type { Fanouts } from './fanouts.js';
import { afterLastSep, HIGH, SEP, type Keyspace } from './keyspace.js';
import type { AttemptRecord, DeadLetterRecord, EventRecord, MessageRecord, MessageStatus } from './records.js';

/** Entries read for one page at most, as a multiple of its limit, when filters reject many. */
const MAX_SCAN_FACTOR = 20;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * A page with the index key of each record: the key the list sorts by (newest first), which the
 * instances of a group share, so that their pages of one list merge into one order.
 */
export interface KeyedPage<T> extends Page<T> {
  keys: string[];
}

export interface PageQuery {
  limit: number;
  cursor?: string;
  since?: number;
  until?: number;
}

export interface MessageQuery extends PageQuery {
  consumerId?: string;
  eventType?: string;
  status?: MessageStatus;
  eventId?: string;
}

/** What a page reads: an index (a sublevel), or the merged ranges of a consumer's messages. */
interface Ranged<V> {
  iterator(range: { gte: string; lt: string; reverse: boolean }): {
    nextv(size: number): Promise<[string, V][]>;
    close(): Promise<void>;
  };
}

/** How a scan reads an index: its entries' records, and which of them belong on the page. */
interface Scan<V, T> {
  index: Ranged<V>;
  /** The part of the key before the sortable id. */
  prefix: string;
  load: (entries: [string, V][]) => Promise<(T | undefined)[]> | (T | undefined)[];
  matches?: (record: T) => boolean;
  /** What the sortable id after the prefix starts with; null when the keys do not sort by time. */
  idPrefix: string | null;
}

export class Lists {
  constructor(
    private readonly space: Keyspace,
    private readonly fanouts: Fanouts,
  ) {}

  async events(query: PageQuery & { eventType?: string }): Promise<KeyedPage<EventRecord>> {
    const { events, eventsByType, eventsByTime } = this.space;
    const load = (entries: [string, string][]) => events.getMany(entries.map(([, id]) => id));
    const scan = query.eventType
      ? { index: eventsByType, prefix: query.eventType + SEP, load, idPrefix: '' }
      : { index: eventsByTime, prefix: '', load, idPrefix: '' };
    return page(scan, query);
  }

  /**
   * Messages newest first, through the narrowest index the filters allow: the event's, the
   * consumer's in one status, the consumer's (its ranges of every status, merged), the
   * status's, the event type's. Filters the
   * index does not cover are checked on the records read. Messages without index entries of
   * their own are merged in: those still in a fan-out record (held in memory) and, for an
   * event, the ones its record lists.
   */
  async messages(query: MessageQuery): Promise<KeyedPage<MessageRecord>> {
    const { messages, messagesByEvent, messagesByConsumerStatus, messagesByStatus, messagesByType } = this.space;
    const matches = (m: MessageRecord) =>
      (query.consumerId === undefined || m.consumerId === query.consumerId) &&
      (query.status === undefined || m.status === query.status) &&
      (query.eventType === undefined || m.eventType === query.eventType) &&
      (query.eventId === undefined || m.eventId === query.eventId);
    const consumerStatus =
      query.consumerId === undefined || query.status === undefined ? undefined : query.consumerId + SEP + query.status;
    // A consumer's messages in every status: its ranges in the index by consumer and status, merged.
    const byConsumer = query.consumerId === undefined ? undefined : new ConsumerMessages(this.space, query.consumerId);
    const indexes: [Ranged<string>, string | undefined][] = [
      [messagesByEvent, query.eventId],
      [messagesByConsumerStatus, consumerStatus],
      ...(byConsumer === undefined ? [] : [[byConsumer, query.consumerId] as [Ranged<string>, string]]),
      [messagesByStatus, query.status],
      [messagesByType, query.eventType],
    ];
    // Messages held in fan-out records are taken before the index is read: one settled in
    // between is then on disk when the scan starts, never in neither place.
    const held = this.unindexed(query);
    held.catch(() => undefined); // awaited below; not unhandled should the index read fail first
    const chosen = indexes.find(([, value]) => value !== undefined);
    let indexed: KeyedPage<MessageRecord>;
    let prefix = '';
    if (chosen === undefined) {
      const load = (entries: [string, MessageRecord][]) => entries.map(([, message]) => message);
      indexed = await page({ index: messages, prefix, load, matches, idPrefix: 'msg_' }, query);
    } else {
      const [index, value] = chosen;
      prefix = value + SEP;
      const load = (entries: [string, string][]) => messages.getMany(entries.map(([key]) => afterLastSep(key)));
      indexed = await page({ index, prefix, load, matches, idPrefix: 'msg_' }, query);
    }
    const unindexed = await held;
    return unindexed.length === 0 ? indexed : merge(indexed, unindexed.filter(matches), prefix, query);
  }

  /**
   * Messages no index lists: those in fan-out records (all `sending`; only the consumer's when
   * the query names one), or, for an event, the messages its record lists.
   */
  private async unindexed({ eventId, consumerId, status }: MessageQuery): Promise<MessageRecord[]> {
    if (eventId === undefined) {
      if (this.fanouts.size === 0 || (status !== undefined && status !== 'sending')) return [];
      return [...(consumerId === undefined ? this.fanouts.all() : this.fanouts.of(consumerId))];
    }
    const ids = (await this.space.events.get(eventId))?.fanout ?? [];
    if (ids.length === 0) return [];
    const inMemory = ids.map((id) => this.fanouts.message(id));
    const found = await this.space.messages.getMany(ids);
    return found.flatMap((message, i) => message ?? inMemory[i] ?? []);
  }

  async attempts(messageId: string, query: PageQuery): Promise<KeyedPage<AttemptRecord>> {
    const load = (entries: [string, AttemptRecord][]) => entries.map(([, attempt]) => attempt);
    return page({ index: this.space.attempts, prefix: messageId + SEP, load, idPrefix: null }, query);
  }

  async deadLetters(query: PageQuery): Promise<KeyedPage<DeadLetterRecord>> {
    const load = (entries: [string, DeadLetterRecord][]) => entries.map(([, record]) => record);
    return page({ index: this.space.deadLetters, prefix: '', load, idPrefix: 'dlq_' }, query);
  }
}

/**
 * One page of a reverse scan. At most limit × MAX_SCAN_FACTOR entries are read; when filters
 * reject them all, the page is short and its cursor continues the scan.
 */
async function page<V, T>(scan: Scan<V, T>, query: PageQuery): Promise<KeyedPage<T>> {
  const { index, prefix, load, matches = () => true, idPrefix } = scan;
  const range: { gte: string; lt: string } = { gte: prefix, lt: prefix + HIGH };
  if (idPrefix !== null && query.since !== undefined) range.gte = prefix + sortableIdFloor(idPrefix, query.since);
  if (idPrefix !== null && query.until !== undefined) range.lt = prefix + sortableIdFloor(idPrefix, query.until);
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor, prefix);
    if (after < range.lt) range.lt = after;
  }
  const data: T[] = [];
  const keys: string[] = [];
  let lastKey: string | undefined;
  let scanned = 0;
  const maxScan = query.limit * MAX_SCAN_FACTOR;
  const iterator = index.iterator({ ...range, reverse: true });
  try {
    while (data.length < query.limit && scanned < maxScan) {
      const entries = await iterator.nextv(Math.min(query.limit - data.length + 8, maxScan - scanned));
      if (entries.length === 0) return { data, keys, nextCursor: null };
      const records = await load(entries);
      for (let i = 0; i < entries.length; i++) {
        scanned += 1;
        lastKey = entries[i][0];
        const record = records[i];
        if (record !== undefined && matches(record)) {
          data.push(record);
          keys.push(entries[i][0]);
        }
        if (data.length === query.limit) break;
      }
    }
  } finally {
    await iterator.close();
  }
  return { data, keys, nextCursor: lastKey === undefined ? null : encodeCursor(lastKey) };
}

/**
 * Merges messages no index lists into an index's page: those in its range (time, cursor) and
 * within what the index scan covered, newest first; the page stays at its limit and its cursor
 * is the last key it shows, as an index key, so the next page goes on from there either way.
 */
function merge(
  indexed: KeyedPage<MessageRecord>,
  extra: MessageRecord[],
  prefix: string,
  query: MessageQuery,
): KeyedPage<MessageRecord> {
  const lowest = query.since === undefined ? '' : sortableIdFloor('msg_', query.since);
  let below = query.until === undefined ? HIGH : sortableIdFloor('msg_', query.until);
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor, prefix).slice(prefix.length);
    if (after < below) below = after;
  }
  // When the index has more, only what its scan covered: the rest comes with the next page.
  const covered = indexed.nextCursor === null ? lowest : decodeCursor(indexed.nextCursor).slice(prefix.length);
  const shown = new Set(indexed.data.map((m) => m.id));
  const added = extra.filter((m) => m.id >= lowest && m.id < below && m.id > covered && !shown.has(m.id));
  if (added.length === 0) return indexed;
  const data = [...indexed.data, ...added].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const keys = data.map((m) => prefix + m.id);
  if (data.length <= query.limit) return { data, keys, nextCursor: indexed.nextCursor };
  const kept = data.slice(0, query.limit);
  return { data: kept, keys: keys.slice(0, query.limit), nextCursor: encodeCursor(keys[query.limit - 1]) };
}

export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, prefix = ''): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key.startsWith(prefix) || key.length === prefix.length || encodeCursor(key) !== cursor) {
    throw new HooksdError(
      'HOOKSD_INVALID_CURSOR',
      'cursor is not valid for this list (use the nextCursor of the previous page with the same filters)',
    );
  }
  return key;
}
