import type { AttemptRecord, DeadLetterRecord, EventRecord, MessageRecord } from '../store/records.js';

/**
 * Records as the API shows them. The store keeps times as milliseconds since the epoch; every
 * answer shows them in one format, ISO 8601 in UTC with milliseconds (`2026-01-02T03:04:05.678Z`).
 * Fields are named one by one, so a field added to a stored record is not shown by accident.
 */

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : iso(ms);
const isoIfSet = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : iso(ms));

/** A date-time text in the one format; text that does not read as a date (none is stored so) as it is. */
function isoOrAsIs(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : iso(ms);
}

export function presentMessage(message: MessageRecord) {
  return {
    id: message.id,
    eventId: message.eventId,
    consumerId: message.consumerId,
    eventType: message.eventType,
    status: message.status,
    createdAt: iso(message.createdAt),
    updatedAt: iso(message.updatedAt),
    attempts: message.attempts,
    manualAttempts: message.manualAttempts,
    nextAttemptAt: isoOrNull(message.nextAttemptAt),
    lastStatusCode: message.lastStatusCode,
    lastError: message.lastError,
    cancelledAt: isoIfSet(message.cancelledAt),
    cancelReason: message.cancelReason,
  };
}

export function presentAttempt(attempt: AttemptRecord) {
  return {
    messageId: attempt.messageId,
    attempt: attempt.attempt,
    trigger: attempt.trigger,
    startedAt: iso(attempt.startedAt),
    durationMs: attempt.durationMs,
    timings: attempt.timings,
    request: attempt.request,
    response: attempt.response,
    outcome: attempt.outcome,
    errorClass: attempt.errorClass,
    error: attempt.error,
  };
}

export function presentDeadLetter(record: DeadLetterRecord) {
  return {
    id: record.id,
    receivedAt: iso(record.receivedAt),
    subject: record.subject,
    reason: record.reason,
    data: record.data,
    encoding: record.encoding,
    headers: record.headers,
    streamSequence: record.streamSequence,
    eventId: record.eventId,
    eventType: record.eventType,
    redrivenAt: isoIfSet(record.redrivenAt),
    redrivenEventId: record.redrivenEventId,
  };
}

/**
 * An event: the delivered envelope parsed, plus when hooksd received it. `generatedDate` is
 * shown in the one time format too; the envelope keeps it as it was published, since that is
 * what consumers receive.
 */
export function presentEvent(event: EventRecord) {
  return {
    id: event.id,
    eventType: event.eventType,
    generatedDate: isoOrAsIs(event.generatedDate),
    receivedAt: iso(event.receivedAt),
    subject: event.subject,
    envelope: JSON.parse(event.body) as unknown,
  };
}
