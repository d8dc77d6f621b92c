import { randomUUID } from 'node:crypto';
import { MOCK_EVENT_SUBJECT } from '../common/subjects.js';
import { ownedId, sortableId } from '../store/ids.js';
import type { EventRecord, MessageRecord } from '../store/records.js';
import type { BatchOp, Store } from '../store/store.js';
import type { Consumer } from './consumer.js';
import type { Dispatcher, Job } from './dispatcher.js';
import { envelopeOf, type Envelope } from './envelope.js';

/**
 * The messages hooksd makes: one per (event, consumer), at ingest (fan-out), on a replay, for
 * a mock event and for the events a consumer missed. Each is written durably before it is
 * handed to the dispatcher, so the due index always knows what still needs an attempt.
 */

/**
 * The message of one event for one consumer, or undefined when the consumer's filters turn
 * the event away. A filter that throws still leaves a record: the message exists, failed,
 * with the reason, and `deliver` is false.
 */
export function messageFor(
  envelope: Envelope,
  consumer: Consumer,
  now: number,
): { message: MessageRecord; deliver: boolean } | undefined {
  let refusal: string | undefined;
  if (consumer.pipeline.hasFilters) {
    try {
      if (!consumer.pipeline.accepts(envelope.view)) return undefined;
    } catch (error) {
      refusal = `a filter failed: ${(error as Error).message}`;
    }
  }
  const message = newMessage(envelope, consumer, now);
  if (refusal !== undefined) Object.assign(message, { status: 'failure', nextAttemptAt: null, lastError: refusal });
  return { message, deliver: message.nextAttemptAt !== null };
}

/** The stored record of an event received (or made) at `receivedAt`. */
export function eventRecord(
  envelope: Pick<Envelope, 'id' | 'eventType' | 'generatedDate' | 'body'>,
  subject: string,
  receivedAt: number,
): EventRecord {
  const { id, eventType, generatedDate, body } = envelope;
  return { id, eventType, generatedDate, receivedAt, seq: sortableId('', receivedAt), subject, body };
}

/** A new message, due when the consumer's retry policy puts its first attempt. */
function newMessage(envelope: Pick<Envelope, 'id' | 'eventType'>, consumer: Consumer, now: number): MessageRecord {
  const firstDelay = consumer.pipeline.retry.nextDelay(0);
  return {
    id: ownedId('msg_', now),
    eventId: envelope.id,
    consumerId: consumer.id,
    eventType: envelope.eventType,
    status: firstDelay === null ? 'failure' : 'sending',
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    nextAttemptAt: firstDelay === null ? null : now + firstDelay,
    ...(firstDelay === null ? { lastError: 'the retry plugin scheduled no attempt' } : {}),
  };
}

/** Starts the jobs whose first attempt is due now; later ones wait in the due index for the sweeper. */
export function dispatchDue(dispatcher: Dispatcher, jobs: Job[]): void {
  const now = Date.now();
  for (const job of jobs) {
    if (job.message.nextAttemptAt !== null && job.message.nextAttemptAt <= now) dispatcher.enqueue(job);
  }
}

/**
 * New messages of a stored event for the given consumers (a replay, a missed event), written
 * in one durable batch and then handed to the dispatcher.
 */
export async function sendAgain(
  store: Store,
  dispatcher: Dispatcher,
  event: EventRecord,
  consumers: readonly Consumer[],
): Promise<MessageRecord[]> {
  const now = Date.now();
  const envelope = envelopeOf(event);
  const created = consumers.flatMap((consumer) => messageFor(envelope, consumer, now) ?? []);
  await store.write(
    created.flatMap(({ message }) => store.newMessageOps(message)),
    true,
  );
  const bytes = Buffer.from(event.body);
  const jobs = created
    .filter((c) => c.deliver)
    .map(({ message }): Job => ({ message, body: event.body, bytes, trigger: 'scheduled' }));
  dispatchDue(dispatcher, jobs);
  return created.map((c) => c.message);
}

/**
 * A new event with its fan-out, made as ingest makes them: one message per consumer whose
 * filters take it, written durably in one batch with `alongside` (what records the event's
 * coming, as a redriven dead letter does), then handed to the dispatcher.
 */
export async function ingestEvent(
  store: Store,
  dispatcher: Dispatcher,
  consumers: readonly Consumer[],
  arrival: { envelope: Envelope; subject: string; receivedAt: number },
  alongside: BatchOp[],
): Promise<MessageRecord[]> {
  const { envelope, subject, receivedAt } = arrival;
  const { ops, jobs, created } = fanOut(store, consumers, envelope, eventRecord(envelope, subject, receivedAt));
  await store.write([...ops, ...alongside], true);
  dispatchDue(dispatcher, jobs);
  return created;
}

/**
 * Messages of one consumer held in fan-out records (in memory until first written) at most: a
 * consumer that falls behind gets its further messages written the usual way, with their due
 * entries, so a backlog costs disk, not memory (test/e2e/backlog.test.ts bounds the RSS).
 */
const FANOUT_HELD_PER_CONSUMER = 1000;

/**
 * The writes of a new event with its fan-out, and the jobs to start once they are written.
 * The messages due at once go into the event's fan-out record (one write for all of them,
 * fanouts.ts), unless their consumer already has many held there; the others (a first attempt
 * scheduled later, a filter that failed, a consumer behind) are written with their index
 * entries and due entry.
 */
export function fanOut(
  store: Store,
  consumers: readonly Consumer[],
  envelope: Envelope,
  event: EventRecord,
): { ops: BatchOp[]; jobs: Job[]; created: MessageRecord[] } {
  const now = event.receivedAt;
  const ops: BatchOp[] = [];
  const jobs: Job[] = [];
  const created: MessageRecord[] = [];
  const atOnce: MessageRecord[] = [];
  // Encoded once, shared by every request of the fan-out that sends the envelope unchanged.
  let bytes: Buffer | undefined;
  for (const consumer of consumers) {
    const fanned = messageFor(envelope, consumer, now);
    if (fanned === undefined) continue;
    const { message, deliver } = fanned;
    created.push(message);
    if (
      deliver &&
      (message.nextAttemptAt as number) <= now &&
      store.fanouts.countOf(consumer.id) < FANOUT_HELD_PER_CONSUMER
    )
      atOnce.push(message);
    else ops.push(...store.newMessageOps(message));
    if (!deliver) continue;
    bytes ??= Buffer.from(envelope.body);
    jobs.push({ message, body: envelope.body, bytes, trigger: 'scheduled' });
  }
  ops.unshift(...store.eventOps(event, atOnce));
  return { ops, jobs, created };
}

/** Whether the consumer would get a message of the event now (its type and filters). */
export function wouldReceive(consumer: Consumer, event: EventRecord): boolean {
  return (
    consumer.pipeline.matchesType(event.eventType) && messageFor(envelopeOf(event), consumer, Date.now()) !== undefined
  );
}

/**
 * A mock event of `eventType` with `payload` (the catalog's example) for one consumer: stored
 * like any event, sent past the consumer's filters, then signed, recorded and retried as usual.
 */
export async function sendMockEvent(
  store: Store,
  dispatcher: Dispatcher,
  consumer: Consumer,
  eventType: string,
  payload: unknown,
): Promise<MessageRecord> {
  const now = Date.now();
  const id = randomUUID();
  const generatedDate = new Date(now).toISOString();
  const body = JSON.stringify({ id, eventType, generatedDate, payload });
  const event = eventRecord({ id, eventType, generatedDate, body }, MOCK_EVENT_SUBJECT, now);
  const message = newMessage(event, consumer, now);
  await store.write([...store.eventOps(event), ...store.newMessageOps(message)], true);
  dispatchDue(dispatcher, [{ message, body: event.body, trigger: 'scheduled' }]);
  return message;
}
