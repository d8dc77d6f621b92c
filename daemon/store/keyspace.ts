import { mkdirSync } from 'node:fs';
import { Level, type BatchOperation } from 'level';
import type {
  ApiConsumerRecord,
  AttemptRecord,
  ConsumerState,
  DeadLetterRecord,
  DeliveryMinuteRecord,
  EventRecord,
  FanoutRecord,
  MessageRecord,
  SecretRecord,
  StatusCounts,
  TaskRecord,
} from './records.js';

/**
 * hooksd's LevelDB keyspace, private to the store: the other parts of hooksd reach it only
 * through the store's methods. Primary records live in `events`, `messages`, `attempts` and
 * `deadLetters`; the other sublevels are indexes whose keys end in a sortable id, so every
 * list is a reverse range scan that stops after one page (lists.ts), and the due index lets
 * the sweeper read only what has fallen due, consumer by consumer, and only as much as each
 * can take.
 *
 *   events            eventId                 → EventRecord (with the ids of its fan-out's messages)
 *   fanouts           seq                     → FanoutRecord: an event's messages due at once, until each has
 *                                               a record of its own (fanouts.ts)
 *   eventsByTime      seq                     → eventId
 *   eventsByType      type \0 seq             → eventId
 *   messages          msgId                   → MessageRecord       (msgIds sort by time)
 *   messagesBy*       status|type|event \0 msgId → ''  (no event entry for the fan-out's messages)
 *   messagesByConsumerStatus consumer \0 status \0 msgId → '' (the console's usual filter: one range; a
 *                                               consumer's messages in every status are its ranges merged,
 *                                               consumer-messages.ts)
 *   messagesByConsumer consumer \0 msgId     → '' (written by 0.2.0 only; deleted with its message)
 *   attempts          msgId \0 attemptNo      → AttemptRecord
 *   due               consumerId \0 dueAt \0 msgId → ''  (the message's nextAttemptAt, as a key)
 *   deadLetters       dlqId                   → DeadLetterRecord
 *   secrets, apiConsumers, consumerState, tasks: where hooksd 0.2 kept its control data (consumerId
 *                     or taskId → record), now read only to carry it over to the control bucket (control.ts)
 *   deliveryMinutes   minute \0 consumerId    → DeliveryMinuteRecord (delivery stats, the last day or so)
 *   counters          'statusCounts'          → StatusCounts (messages per status, written with every change)
 *                     'consumer' \0 consumerId → StatusCounts (the same per consumer; a fan-out record's
 *                                               messages count as sending in both until first written)
 *                     'consumerStatusIndex'   → {} (the index and counts per consumer were built)
 *                     'controlCarriedOver'    → {} (the control data was carried over to the control bucket)
 */

export const SEP = '\x00';
export const HIGH = '\xff';
const DUE_WIDTH = 15;

/**
 * LevelDB holds the index block and bloom filter of every table file it has open (its table
 * cache, up to `maxOpenFiles`, 1,000 by default) in memory, and the count of tables grows with
 * the store. With the defaults hooksd's RssAnon grew 1.22 MB a minute over the second half of the
 * 30-minute soak (test/faults/soak.test.ts, 300 events/s); with blocks four times larger (each
 * index a quarter of the size) and at most 256 open files (a bound on the cache), 0.31 and 0.13
 * in two runs. Both apply to an existing store as it is: tables keep the block size they were
 * written with, and compaction rewrites them with the new one.
 */
const TABLE_OPTIONS = { blockSize: 16 * 1024, maxOpenFiles: 256 };

type Db = Level<string, unknown>;
const openSublevel = <V>(db: Db, name: string) => db.sublevel<string, V>(name, { valueEncoding: 'json' });
export type Sublevel<V> = ReturnType<typeof openSublevel<V>>;
/** One operation of an atomic write; built by the store's op builders only. */
export type BatchOp = BatchOperation<Db, string, unknown>;

export const dueTime = (dueAt: number) => String(Math.max(0, Math.floor(dueAt))).padStart(DUE_WIDTH, '0');
export const dueKey = (consumerId: string, dueAt: number, messageId: string) =>
  consumerId + SEP + dueTime(dueAt) + SEP + messageId;
/** The message id at the end of a due key. */
export const dueMessageId = (key: string) => key.slice(key.lastIndexOf(SEP) + 1);
/** A consumer's minute of delivery stats; minutes sort by time, as due times do. */
export const deliveryMinuteKey = (minute: number, consumerId: string) => dueTime(minute) + SEP + consumerId;
export const attemptKey = (messageId: string, attempt: number) => messageId + SEP + String(attempt).padStart(6, '0');
/** The part of an index key after its first separator: the id the entry points to. */
export const afterSep = (key: string) => key.slice(key.indexOf(SEP) + 1);
/** The part of an index key after its last separator: the id a key of several parts points to. */
export const afterLastSep = (key: string) => key.slice(key.lastIndexOf(SEP) + 1);
export const consumerStatusKey = (message: { consumerId: string; status: string; id: string }) =>
  message.consumerId + SEP + message.status + SEP + message.id;

export class Keyspace {
  readonly db: Db;
  readonly events: Sublevel<EventRecord>;
  readonly fanouts: Sublevel<FanoutRecord>;
  readonly eventsByTime: Sublevel<string>;
  readonly eventsByType: Sublevel<string>;
  readonly messages: Sublevel<MessageRecord>;
  readonly messagesByConsumer: Sublevel<string>;
  readonly messagesByStatus: Sublevel<string>;
  readonly messagesByType: Sublevel<string>;
  readonly messagesByEvent: Sublevel<string>;
  readonly messagesByConsumerStatus: Sublevel<string>;
  readonly attempts: Sublevel<AttemptRecord>;
  readonly due: Sublevel<string>;
  readonly deadLetters: Sublevel<DeadLetterRecord>;
  readonly secrets: Sublevel<SecretRecord>;
  readonly consumerState: Sublevel<ConsumerState>;
  readonly apiConsumers: Sublevel<ApiConsumerRecord>;
  readonly tasks: Sublevel<TaskRecord>;
  readonly deliveryMinutes: Sublevel<DeliveryMinuteRecord>;
  readonly counters: Sublevel<StatusCounts>;

  constructor(path: string) {
    mkdirSync(path, { recursive: true });
    const db = new Level<string, unknown>(path, { valueEncoding: 'json', ...TABLE_OPTIONS });
    this.db = db;
    this.events = openSublevel(db, 'events');
    this.fanouts = openSublevel(db, 'fanouts');
    this.eventsByTime = openSublevel(db, 'eventsByTime');
    this.eventsByType = openSublevel(db, 'eventsByType');
    this.messages = openSublevel(db, 'messages');
    this.messagesByConsumer = openSublevel(db, 'messagesByConsumer');
    this.messagesByStatus = openSublevel(db, 'messagesByStatus');
    this.messagesByType = openSublevel(db, 'messagesByType');
    this.messagesByEvent = openSublevel(db, 'messagesByEvent');
    this.messagesByConsumerStatus = openSublevel(db, 'messagesByConsumerStatus');
    this.attempts = openSublevel(db, 'attempts');
    this.due = openSublevel(db, 'due');
    this.deadLetters = openSublevel(db, 'deadLetters');
    this.secrets = openSublevel(db, 'secrets');
    this.consumerState = openSublevel(db, 'consumerState');
    this.apiConsumers = openSublevel(db, 'apiConsumers');
    this.tasks = openSublevel(db, 'tasks');
    this.deliveryMinutes = openSublevel(db, 'deliveryMinutes');
    this.counters = openSublevel(db, 'counters');
  }
}
