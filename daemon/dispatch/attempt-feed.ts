import type { AttemptRecord, MessageRecord } from '../store/records.js';

/** One attempt as the live feed and the log tell it: times in ISO 8601. */
export interface AttemptSummary {
  at: string;
  consumerId: string;
  eventType: string;
  eventId: string;
  messageId: string;
  trigger: AttemptRecord['trigger'];
  /** The scheduled attempt's number, and how many the consumer's schedule allows; null for a manual one. */
  attempt: number | null;
  of: number | null;
  outcome: AttemptRecord['outcome'];
  statusCode: number | null;
  errorClass: string | null;
  error: string | null;
  durationMs: number;
  /** The message's status after the attempt, and when its next scheduled attempt is due. */
  status: MessageRecord['status'];
  nextAttemptAt: string | null;
}

export function summarize(attempt: AttemptRecord, after: MessageRecord, scheduleLength: number): AttemptSummary {
  const manual = attempt.trigger === 'manual';
  return {
    at: new Date(attempt.startedAt).toISOString(),
    consumerId: after.consumerId,
    eventType: after.eventType,
    eventId: after.eventId,
    messageId: after.id,
    trigger: attempt.trigger,
    attempt: manual ? null : attempt.attempt - (after.manualAttempts ?? 0),
    of: manual ? null : scheduleLength,
    outcome: attempt.outcome,
    statusCode: attempt.response?.statusCode ?? null,
    errorClass: attempt.errorClass ?? null,
    error: attempt.error ?? null,
    durationMs: attempt.durationMs,
    status: after.status,
    nextAttemptAt: after.nextAttemptAt === null ? null : new Date(after.nextAttemptAt).toISOString(),
  };
}

/** Attempts as they are recorded, for whoever listens (`hooksd tail`, through the API); costs nothing unheard. */
export class AttemptFeed {
  private readonly listeners = new Set<(summary: AttemptSummary) => void>();

  get heard(): boolean {
    return this.listeners.size > 0;
  }

  /** Returns the function that stops listening. */
  subscribe(listener: (summary: AttemptSummary) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(summary: AttemptSummary): void {
    for (const listener of this.listeners) listener(summary);
  }
}
