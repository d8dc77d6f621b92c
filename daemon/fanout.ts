import { randomUUID } from 'node:crypto';
import type { Consumer } from './consumers.js';
import type { Dispatcher, Job } from './dispatcher.js';
import type { Envelope } from './envelope.js';
import { sortableId } from './ids.js';
import type { EventRecord, MessageRecord } from './records.js';
import type { Store } from './store.js';

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
  return { message, deliver: refusal === undefined };
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

function newMessage(envelope: Pick<Envelope, 'id' | 'eventType'>, consumer: Consumer, now: number): MessageRecord {
  return {
    id: sortableId('msg_', now),
    eventId: envelope.id,
    consumerId: consumer.id,
    eventType: envelope.eventType,
    status: 'sending',
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    nextAttemptAt: now + consumer.retrySchedule[0],
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
 * New messages of a stored event for the given consumers (a replay, a mock event, a missed
 * event), written in one durable batch and then handed to the dispatcher.
 */
export async function sendAgain(
  store: Store,
  dispatcher: Dispatcher,
  envelope: Envelope,
  consumers: readonly Consumer[],
): Promise<MessageRecord[]> {
  const now = Date.now();
  const created = consumers.flatMap((consumer) => messageFor(envelope, consumer, now) ?? []);
  await store.write(
    created.flatMap(({ message }) => store.newMessageOps(message)),
    true,
  );
  dispatchDue(
    dispatcher,
    created
      .filter((c) => c.deliver)
      .map(({ message }) => ({ message, body: envelope.body, trigger: 'scheduled' as const })),
  );
  return created.map((c) => c.message);
}

/** The subject recorded on mock events, which are made by hooksd rather than received from NATS. */
export const MOCK_EVENT_SUBJECT = 'hooksd.mock';

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
  const event = eventRecord(
    { id, eventType, generatedDate, body: JSON.stringify({ id, eventType, generatedDate, payload }) },
    MOCK_EVENT_SUBJECT,
    now,
  );
  const message = newMessage(event, consumer, now);
  await store.write([...store.eventOps(event), ...store.newMessageOps(message)], true);
  dispatchDue(dispatcher, [{ message, body: event.body, trigger: 'scheduled' }]);
  return message;
}
