import { sortableIdFloor } from './ids.js';
import type { EventRecord, MessageRecord } from './records.js';
import { HIGH, SEP, type Store } from './store.js';

/**
 * Long walks over the store, oldest first, for the background work that needs them: bulk
 * tasks (in steps that can be saved and resumed) and the retention purge.
 */

/** A step of a bulk scan: the records found, and whether the index goes on past them (a record missing under its index entry is left out). */
export interface Step<T> {
  items: T[];
  more: boolean;
  /** The last index key read: where the next step starts. */
  lastKey: string | null;
}

/** The consumer's messages created between `since` and `until`, `limit` at most, continuing after the index key `after`. */
export async function consumerMessagesBetween(
  store: Store,
  consumerId: string,
  since: number,
  until: number,
  after: string | null,
  limit: number,
): Promise<Step<{ key: string; message: MessageRecord }>> {
  const prefix = consumerId + SEP;
  const keys: string[] = await store.messagesByConsumer
    .keys({
      ...(after === null ? { gte: prefix + sortableIdFloor('msg_', since) } : { gt: after }),
      lt: prefix + sortableIdFloor('msg_', until + 1),
      limit,
    })
    .all();
  const messages = await store.getMessages(keys.map((k) => k.slice(prefix.length)));
  return {
    items: keys.flatMap((key, i) =>
      messages[i] === undefined ? [] : [{ key, message: messages[i] as MessageRecord }],
    ),
    more: keys.length === limit,
    lastKey: keys.at(-1) ?? null,
  };
}

/** Events received since `since`, `limit` at most, continuing after the index key `after`. */
export async function eventsSince(
  store: Store,
  since: number,
  after: string | null,
  limit: number,
): Promise<Step<{ key: string; event: EventRecord }>> {
  const entries: [string, string][] = await store.eventsByTime
    .iterator(after === null ? { gte: sortableIdFloor('', since), limit } : { gt: after, limit })
    .all();
  const events: (EventRecord | undefined)[] = await store.events.getMany(entries.map(([, id]) => id));
  return {
    items: entries.flatMap(([key], i) => (events[i] === undefined ? [] : [{ key, event: events[i] as EventRecord }])),
    more: entries.length === limit,
    lastKey: entries.at(-1)?.[0] ?? null,
  };
}

/** The ids of the consumers an event has messages for. */
export async function consumersOfEvent(store: Store, eventId: string): Promise<Set<string>> {
  const prefix = eventId + SEP;
  const keys: string[] = await store.messagesByEvent.keys({ gte: prefix, lt: prefix + HIGH }).all();
  const messages = await store.getMessages(keys.map((k) => k.slice(prefix.length)));
  return new Set(messages.flatMap((m) => (m ? [m.consumerId] : [])));
}

/** Records created before `time`: messages, events (by reception) and dead-letter keys. */
export async function* messagesBefore(store: Store, time: number): AsyncGenerator<MessageRecord> {
  for await (const message of store.messages.values({ lt: sortableIdFloor('msg_', time) }))
    yield message as MessageRecord;
}

export async function* eventsBefore(store: Store, time: number): AsyncGenerator<EventRecord> {
  for await (const id of store.eventsByTime.values({ lt: sortableIdFloor('', time) })) {
    const event = await store.getEvent(id as string);
    if (event !== undefined) yield event;
  }
}

export async function* deadLetterKeysBefore(store: Store, time: number): AsyncGenerator<string> {
  for await (const key of store.deadLetters.keys({ lt: sortableIdFloor('dlq_', time) })) yield key as string;
}
