/**
 * The paged lists of the API: reverse range scans over the store's primary records and
 * indexes, newest first, that stop after one page. A cursor is the last key read, so a walk
 * stays right while records keep arriving.
 */
import { HooksdError } from './errors.js';
import { sortableIdFloor } from './ids.js';
import type { AttemptRecord, DeadLetterRecord, EventRecord, MessageRecord, MessageStatus } from './records.js';
import { HIGH, SEP, type Store, type Sublevel } from './store.js';

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

export async function listEvents(store: Store, query: PageQuery & { eventType?: string }): Promise<Page<EventRecord>> {
  const [index, prefix] = query.eventType ? [store.eventsByType, query.eventType + SEP] : [store.eventsByTime, ''];
  return page(index, prefix, query, async (_keys: string[], ids: unknown[]) => store.events.getMany(ids as string[]));
}

export async function listMessages(store: Store, query: MessageQuery): Promise<Page<MessageRecord>> {
  const choice: [Sublevel, string][] = [
    [store.messagesByEvent, query.eventId],
    [store.messagesByConsumer, query.consumerId],
    [store.messagesByStatus, query.status],
    [store.messagesByType, query.eventType],
  ].filter(([, value]) => value !== undefined) as [Sublevel, string][];
  const load = (keys: string[], values: unknown[]) =>
    store
      .getMessages(choice.length > 0 ? keys.map((k) => k.slice(k.indexOf(SEP) + 1)) : keys)
      .then((found) => (choice.length > 0 ? found : (values as MessageRecord[])));
  const matches = (m: MessageRecord) =>
    (query.consumerId === undefined || m.consumerId === query.consumerId) &&
    (query.status === undefined || m.status === query.status) &&
    (query.eventType === undefined || m.eventType === query.eventType) &&
    (query.eventId === undefined || m.eventId === query.eventId);
  const [index, value] = choice[0] ?? [store.messages, undefined];
  return page(index, value === undefined ? '' : value + SEP, query, load, matches, 'msg_');
}

export async function listAttempts(store: Store, messageId: string, query: PageQuery): Promise<Page<AttemptRecord>> {
  return page(
    store.attempts,
    messageId + SEP,
    query,
    async (_keys: string[], values: unknown[]) => values as AttemptRecord[],
    undefined,
    null,
  );
}

export async function listDeadLetters(store: Store, query: PageQuery): Promise<Page<DeadLetterRecord>> {
  return page(
    store.deadLetters,
    '',
    query,
    async (_keys: string[], values: unknown[]) => values as DeadLetterRecord[],
    undefined,
    'dlq_',
  );
}

/**
 * One page of a reverse scan over `index` within `prefix`. Keys after the prefix are
 * sortable ids beginning with `idPrefix` (null: not time-sortable, so since/until do not
 * apply). At most limit × MAX_SCAN_FACTOR entries are read; when filters reject them all,
 * the page is short and its cursor continues the scan.
 */
async function page<T>(
  index: Sublevel,
  prefix: string,
  query: PageQuery,
  load: (keys: string[], values: unknown[]) => Promise<(T | undefined)[]>,
  matches: (record: T) => boolean = () => true,
  idPrefix: string | null = '',
): Promise<Page<T>> {
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
      const entries: [string, unknown][] = await iterator.nextv(
        Math.min(query.limit - data.length + 8, maxScan - scanned),
      );
      if (entries.length === 0) return { data, nextCursor: null };
      const records = await load(
        entries.map(([k]) => k),
        entries.map(([, v]) => v),
      );
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
