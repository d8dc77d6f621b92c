/**
 * The paged lists of the API: reverse range scans over the store's primary records and
 * indexes, newest first, that stop after one page. A cursor is the last key read, so a walk
 * stays right while records keep arriving.
 */
import { HooksdError } from '../common/errors.js';
import { sortableIdFloor } from './ids.js';
import { afterLastSep, HIGH, SEP, type Keyspace, type Sublevel } from './keyspace.js';
import type { AttemptRecord, DeadLetterRecord, EventRecord, MessageRecord, MessageStatus } from './records.js';

/** Entries read for one page at most, as a multiple of its limit, when filters reject many. */
const MAX_SCAN_FACTOR = 20;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
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

/** How a scan reads an index: its entries' records, and which of them belong on the page. */
interface Scan<V, T> {
  index: Sublevel<V>;
  /** The part of the key before the sortable id. */
  prefix: string;
  load: (entries: [string, V][]) => Promise<(T | undefined)[]> | (T | undefined)[];
  matches?: (record: T) => boolean;
  /** What the sortable id after the prefix starts with; null when the keys do not sort by time. */
  idPrefix: string | null;
}

export class Lists {
  constructor(private readonly space: Keyspace) {}

  async events(query: PageQuery & { eventType?: string }): Promise<Page<EventRecord>> {
    const { events, eventsByType, eventsByTime } = this.space;
    const load = (entries: [string, string][]) => events.getMany(entries.map(([, id]) => id));
    const scan = query.eventType
      ? { index: eventsByType, prefix: query.eventType + SEP, load, idPrefix: '' }
      : { index: eventsByTime, prefix: '', load, idPrefix: '' };
    return page(scan, query);
  }

  /**
   * Messages newest first, through the narrowest index the filters allow: the event's, the
   * consumer's in one status, the consumer's, the status's, the event type's. Filters the
   * index does not cover are checked on the records read.
   */
  async messages(query: MessageQuery): Promise<Page<MessageRecord>> {
    const { messages, messagesByEvent, messagesByConsumerStatus, messagesByConsumer, messagesByStatus } = this.space;
    const matches = (m: MessageRecord) =>
      (query.consumerId === undefined || m.consumerId === query.consumerId) &&
      (query.status === undefined || m.status === query.status) &&
      (query.eventType === undefined || m.eventType === query.eventType) &&
      (query.eventId === undefined || m.eventId === query.eventId);
    const consumerStatus =
      query.consumerId === undefined || query.status === undefined ? undefined : query.consumerId + SEP + query.status;
    const indexes: [Sublevel<string>, string | undefined][] = [
      [messagesByEvent, query.eventId],
      [messagesByConsumerStatus, consumerStatus],
      [messagesByConsumer, query.consumerId],
      [messagesByStatus, query.status],
      [this.space.messagesByType, query.eventType],
    ];
    const chosen = indexes.find(([, value]) => value !== undefined);
    if (chosen === undefined) {
      const load = (entries: [string, MessageRecord][]) => entries.map(([, message]) => message);
      return page({ index: messages, prefix: '', load, matches, idPrefix: 'msg_' }, query);
    }
    const [index, value] = chosen;
    const load = (entries: [string, string][]) => messages.getMany(entries.map(([key]) => afterLastSep(key)));
    return page({ index, prefix: value + SEP, load, matches, idPrefix: 'msg_' }, query);
  }

  async attempts(messageId: string, query: PageQuery): Promise<Page<AttemptRecord>> {
    const load = (entries: [string, AttemptRecord][]) => entries.map(([, attempt]) => attempt);
    return page({ index: this.space.attempts, prefix: messageId + SEP, load, idPrefix: null }, query);
  }

  async deadLetters(query: PageQuery): Promise<Page<DeadLetterRecord>> {
    const load = (entries: [string, DeadLetterRecord][]) => entries.map(([, record]) => record);
    return page({ index: this.space.deadLetters, prefix: '', load, idPrefix: 'dlq_' }, query);
  }
}

/**
 * One page of a reverse scan. At most limit × MAX_SCAN_FACTOR entries are read; when filters
 * reject them all, the page is short and its cursor continues the scan.
 */
async function page<V, T>(scan: Scan<V, T>, query: PageQuery): Promise<Page<T>> {
  const { index, prefix, load, matches = () => true, idPrefix } = scan;
  const range: { gte: string; lt: string } = { gte: prefix, lt: prefix + HIGH };
  if (idPrefix !== null && query.since !== undefined) range.gte = prefix + sortableIdFloor(idPrefix, query.since);
  if (idPrefix !== null && query.until !== undefined) range.lt = prefix + sortableIdFloor(idPrefix, query.until);
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor, prefix);
    if (after < range.lt) range.lt = after;
  }
  const data: T[] = [];
  let lastKey: string | undefined;
  let scanned = 0;
  const maxScan = query.limit * MAX_SCAN_FACTOR;
  const iterator = index.iterator({ ...range, reverse: true });
  try {
    while (data.length < query.limit && scanned < maxScan) {
      const entries = await iterator.nextv(Math.min(query.limit - data.length + 8, maxScan - scanned));
      if (entries.length === 0) return { data, nextCursor: null };
      const records = await load(entries);
      for (let i = 0; i < entries.length; i++) {
        scanned += 1;
        lastKey = entries[i][0];
        const record = records[i];
        if (record !== undefined && matches(record)) data.push(record);
        if (data.length === query.limit) break;
      }
    }
  } finally {
    await iterator.close();
  }
  return { data, nextCursor: lastKey === undefined ? null : encodeCursor(lastKey) };
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
