import { ConsumerMessages } from './consumer-messages.js';
import type { Fanouts } from './fanouts.js';
import { sortableIdFloor } from './ids.js';
import { afterSep, dueTime, HIGH, SEP, type Keyspace } from './keyspace.js';
import type { DeliveryMinuteRecord, EventRecord, MessageRecord } from './records.js';

/**
 * A step of a bulk scan: the records found, and whether the index goes on past them (a record missing under its index
 * entry is left out).
 */
export interface Step<T> {
  items: T[];
  more: boolean;
  /** The last index key read: where the next step starts. */
  lastKey: string | null;
}

/**
 * Long walks over the store, oldest first, for the background work that needs them: bulk
 * tasks (in steps that can be saved and resumed), the retention purge, and delivery stats
 * (read at start-up, purged as they age).
 */
export class Scans {
  constructor(
    private readonly space: Keyspace,
    private readonly fanouts: Fanouts,
  ) {}

  /**
   * The consumer's messages created between `since` and `until`, `limit` at most, continuing after the index key
   * `after`.
   */
  async consumerMessagesBetween(
    consumerId: string,
    range: { since: number; until: number },
    after: string | null,
    limit: number,
  ): Promise<Step<{ key: string; message: MessageRecord }>> {
    const prefix = consumerId + SEP;
    const from = after === null ? { gte: prefix + sortableIdFloor('msg_', range.since) } : { gt: after };
    const lt = prefix + sortableIdFloor('msg_', range.until + 1);
    const keys = await new ConsumerMessages(this.space, consumerId).keys({ ...from, lt, limit });
    const messages = await this.space.messages.getMany(keys.map(afterSep));
    const items = keys.flatMap((key, i) => {
      const message = messages[i];
      return message === undefined ? [] : [{ key, message }];
    });
    return { items, more: keys.length === limit, lastKey: keys.at(-1) ?? null };
  }

  /** Events received since `since`, `limit` at most, continuing after the index key `after`. */
  async eventsSince(
    since: number,
    after: string | null,
    limit: number,
  ): Promise<Step<{ key: string; event: EventRecord }>> {
    const range = after === null ? { gte: sortableIdFloor('', since), limit } : { gt: after, limit };
    const entries = await this.space.eventsByTime.iterator(range).all();
    const events = await this.space.events.getMany(entries.map(([, id]) => id));
    const items = entries.flatMap(([key], i) => {
      const event = events[i];
      return event === undefined ? [] : [{ key, event }];
    });
    return { items, more: entries.length === limit, lastKey: entries.at(-1)?.[0] ?? null };
  }

  /** The ids of the consumers an event has messages for. */
  async consumersOfEvent(eventId: string): Promise<Set<string>> {
    return new Set((await this.messagesOfEvent(eventId)).map((m) => m.consumerId));
  }

  /** Whether any message of the event is still stored. */
  async eventHasMessages(eventId: string): Promise<boolean> {
    const prefix = eventId + SEP;
    if ((await this.space.messagesByEvent.keys({ gte: prefix, lt: prefix + HIGH, limit: 1 }).all()).length > 0)
      return true;
    return (await this.fanoutMessages(eventId)).length > 0;
  }

  /** Messages created before `time`, oldest first. */
  async *messagesBefore(time: number): AsyncGenerator<MessageRecord> {
    yield* this.space.messages.values({ lt: sortableIdFloor('msg_', time) });
  }

  /** Events received before `time`, oldest first. */
  async *eventsBefore(time: number): AsyncGenerator<EventRecord> {
    for await (const id of this.space.eventsByTime.values({ lt: sortableIdFloor('', time) })) {
      const event = await this.space.events.get(id);
      if (event !== undefined) yield event;
    }
  }

  /** Keys of the dead letters received before `time`, for `Store.deadLetterDeleteOps`. */
  async *deadLetterKeysBefore(time: number): AsyncGenerator<string> {
    yield* this.space.deadLetters.keys({ lt: sortableIdFloor('dlq_', time) });
  }

  /** Every consumer's minutes of delivery stats from `time` on, oldest first. */
  async deliveryMinutesSince(time: number): Promise<DeliveryMinuteRecord[]> {
    return this.space.deliveryMinutes.values({ gte: dueTime(time) }).all();
  }

  /** Keys of the minutes of delivery stats before `time`, for `Store.deliveryMinuteDeleteOps`. */
  async *deliveryMinuteKeysBefore(time: number): AsyncGenerator<string> {
    yield* this.space.deliveryMinutes.keys({ lt: dueTime(time) });
  }

  private async messagesOfEvent(eventId: string): Promise<MessageRecord[]> {
    const prefix = eventId + SEP;
    const keys = await this.space.messagesByEvent.keys({ gte: prefix, lt: prefix + HIGH }).all();
    const messages = await this.space.messages.getMany(keys.map(afterSep));
    return [...messages.filter((m): m is MessageRecord => m !== undefined), ...(await this.fanoutMessages(eventId))];
  }

  /** The messages the event's record lists (those of its fan-out record), where still stored. */
  private async fanoutMessages(eventId: string): Promise<MessageRecord[]> {
    const ids = (await this.space.events.get(eventId))?.fanout ?? [];
    if (ids.length === 0) return [];
    const found = await this.space.messages.getMany(ids);
    return found.flatMap((message, i) => message ?? this.fanouts.message(ids[i]) ?? []);
  }
}
