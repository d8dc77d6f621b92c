import type { Logger } from 'pino';
import type { Webhook } from '../../plugins/contract.js';
import type { Metrics } from '../common/metrics.js';
import type { OpsEvents } from '../common/ops-events.js';
import type { AttemptRecord, MessageRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { Consumer } from './consumer.js';
import { AttemptFeed, summarize } from './attempt-feed.js';
import type { DeliveryPool } from './delivery-pool.js';
import type { ConsumerHealth } from './health.js';
import { sendHttp } from './http-attempt.js';
import type { NetworkGuard } from './network-guard.js';
import { redactHeaders, redactText } from './redact.js';
import { activeKeys } from './secrets.js';

/**
 * A message ready for an attempt; `body` saves a read when the caller has the event at hand,
 * and `bytes` (its UTF-8 encoding) an encoding per request when one event goes to many consumers.
 */
export interface Job {
  message: MessageRecord;
  body?: string;
  bytes?: Buffer;
  trigger: 'scheduled' | 'manual';
}

/** What attempts read of the config; replaced as a whole on reload. */
export interface DeliverySettings {
  /** Most bytes of a response body kept on the attempt. */
  maxResponseBytes: number;
  /** Which addresses requests may reach (delivery.network). */
  guard: NetworkGuard;
}

/** The request a transform made (or the untransformed one), or why there is none. */
type Prepared = { webhook: Webhook; body: string } | { error: string } | { cancelled: true };

/**
 * One attempt of one message: the consumer's transforms, its signature, the request, and the
 * record of it all, written with the message's new status and due time in one write. Then
 * the consumer's health hears of it, and a message that failed for good is announced.
 */
export class Attempts {
  /** Every attempt, as it is recorded. */
  readonly feed = new AttemptFeed();
  /** Worker threads that send the requests (delivery.workers); without them, this thread does. */
  pool: DeliveryPool | undefined;

  constructor(
    private readonly store: Store,
    private readonly health: ConsumerHealth,
    private readonly ops: OpsEvents,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    public settings: DeliverySettings,
  ) {}

  /**
   * Runs and records the job's attempt; `answered` is called once no request is open any
   * more. Resolves to the message as it now stands, or undefined when nothing was recorded (a
   * manual attempt for a consumer that cannot take it).
   */
  async run(job: Job, consumer: Consumer | undefined, answered: () => void): Promise<MessageRecord | undefined> {
    const { message } = job;
    const now = Date.now();
    if (consumer === undefined || consumer.disabled) {
      const reason = `consumer "${message.consumerId}" is ${consumer === undefined ? 'not configured' : 'disabled'}`;
      if (job.trigger === 'scheduled') return this.finishWithout(message, 'skipped', reason, now);
      this.log.warn({ messageId: message.id }, `manual attempt not sent: ${reason}`);
      return undefined;
    }
    const body = job.body ?? (await this.store.getEvent(message.eventId))?.body;
    if (body === undefined) return this.finishWithout(message, 'failure', 'the event is no longer stored', now);
    const prepared = prepare(consumer, body);
    if ('cancelled' in prepared)
      return this.finishWithout(message, 'cancelled', 'a transform cancelled this message', now);
    const attempt = await this.send(job, consumer, body, prepared);
    answered();
    const after = nextState(message, attempt, consumer, Date.now());
    await this.store.write([...this.store.attemptOps(attempt), ...this.store.messageUpdateOps(message, after)]);
    this.metrics.attempted(consumer.id, attempt.outcome, attempt.durationMs, message.createdAt);
    this.tell(attempt, after, consumer);
    await this.health.afterAttempt(consumer.id, attempt);
    if (after.status === 'failure' && job.trigger === 'scheduled') {
      this.ops.publish('message.failure', {
        messageId: after.id,
        eventId: after.eventId,
        consumerId: after.consumerId,
        eventType: after.eventType,
        attempts: after.attempts,
        lastStatusCode: after.lastStatusCode ?? null,
        lastError: after.lastError ?? null,
      });
    }
    return after;
  }

  /** A failed attempt gets a log line; every attempt goes to the live feed when someone listens. */
  private tell(attempt: AttemptRecord, after: MessageRecord, consumer: Consumer): void {
    if (attempt.outcome === 'success' && !this.feed.heard) return;
    const summary = summarize(attempt, after, consumer.pipeline.retry.schedule.length);
    if (attempt.outcome === 'failure') {
      // What an operator reading the log needs; the summary's `at` is the line's own time.
      const { at: _at, eventId: _eventId, trigger: _trigger, outcome: _outcome, ...fields } = summary;
      this.log.warn(fields, 'attempt failed');
    }
    this.feed.publish(summary);
  }

  private async send(
    job: Job,
    consumer: Consumer,
    envelope: string,
    prepared: Exclude<Prepared, { cancelled: true }>,
  ): Promise<AttemptRecord> {
    const startedAt = Date.now();
    const base = { messageId: job.message.id, attempt: job.message.attempts + 1, trigger: job.trigger, startedAt };
    if ('error' in prepared) {
      const request = { method: 'POST', url: consumer.url, headers: redactHeaders(consumer.headers) };
      const error = redactText(prepared.error, consumer);
      return { ...base, durationMs: 0, timings: {}, outcome: 'failure', errorClass: 'transform', error, request };
    }
    const { webhook, body } = prepared;
    const signature = consumer.pipeline.sign.headers({
      messageId: job.message.id,
      timestamp: Math.floor(startedAt / 1000),
      body,
      keys: activeKeys(consumer.signingKeys, startedAt),
    });
    // content-type and user-agent are added by the transport (transport.ts).
    const headers = { ...webhook.headers, ...signature };
    const unchanged = body === envelope;
    const sent = unchanged && job.bytes !== undefined ? job.bytes : body;
    const request = { method: webhook.method, url: webhook.url, headers, body: sent };
    const { maxResponseBytes, guard } = this.settings;
    const { transport } = consumer.pipeline;
    const outcome = await (this.pool === undefined
      ? sendHttp(consumer, request, maxResponseBytes, guard, transport)
      : this.pool.send(consumer, request, maxResponseBytes, guard, transport));
    if (outcome.error !== undefined) outcome.error = redactText(outcome.error, consumer);
    const recorded = {
      method: request.method,
      url: request.url,
      headers: recordedHeaders(consumer, webhook, signature),
    };
    return { ...base, ...outcome, request: unchanged ? recorded : { ...recorded, body } };
  }

  /** Ends a message that could not be attempted: its status says why, and it stays replayable. */
  private async finishWithout(
    message: MessageRecord,
    status: MessageRecord['status'],
    reason: string,
    now: number,
  ): Promise<MessageRecord> {
    const after: MessageRecord = { ...message, status, nextAttemptAt: null, updatedAt: now, lastError: reason };
    await this.store.write(this.store.messageUpdateOps(message, after));
    return after;
  }
}

/** The consumer's own headers with content-type, redacted as an attempt records them: made once per consumer. */
const recordedBase = new WeakMap<Consumer, Record<string, string>>();

/** The headers an attempt records: as sent, content-type included, credentials redacted. */
function recordedHeaders(
  consumer: Consumer,
  webhook: Webhook,
  signature: Record<string, string>,
): Record<string, string> {
  if (webhook.headers !== consumer.headers)
    return redactHeaders({ ...webhook.headers, 'content-type': 'application/json', ...signature });
  let base = recordedBase.get(consumer);
  if (base === undefined) {
    base = redactHeaders({ ...consumer.headers, 'content-type': 'application/json' });
    recordedBase.set(consumer, base);
  }
  return { ...base, ...redactHeaders(signature) };
}

/**
 * Runs the consumer's transforms over the request. Without transforms the envelope bytes go
 * out as they are, with the consumer's headers (not copied: nothing changes them); with
 * transforms, the body is the transformed payload serialised.
 */
function prepare(consumer: Consumer, envelope: string): Prepared {
  const { transforms } = consumer.pipeline;
  const headers = consumer.headers as Record<string, string>;
  if (transforms.length === 0)
    return {
      webhook: { method: 'POST', url: consumer.url, headers, payload: undefined, cancel: false },
      body: envelope,
    };
  let webhook: Webhook = {
    method: 'POST',
    url: consumer.url,
    headers: { ...headers },
    payload: undefined,
    cancel: false,
  };
  try {
    webhook.payload = JSON.parse(envelope);
    for (const transform of transforms) webhook = transform(webhook);
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (webhook.cancel) return { cancelled: true };
  return { webhook, body: JSON.stringify(webhook.payload) };
}

/** A manual attempt changes the status but not the schedule; a scheduled one moves it on. */
function nextState(message: MessageRecord, attempt: AttemptRecord, consumer: Consumer, now: number): MessageRecord {
  const manual = attempt.trigger === 'manual';
  const manualAttempts = (message.manualAttempts ?? 0) + (manual ? 1 : 0);
  const base = {
    ...message,
    attempts: attempt.attempt,
    manualAttempts,
    updatedAt: now,
    lastStatusCode: attempt.response?.statusCode,
    lastError: attempt.error,
  };
  if (attempt.outcome === 'success') return { ...base, status: 'success', nextAttemptAt: null };
  if (manual) return { ...base, status: message.nextAttemptAt === null ? 'failure' : message.status };
  const retryAfter = attempt.response?.headers['retry-after'];
  const delay = consumer.pipeline.retry.nextDelay(attempt.attempt - manualAttempts, {
    statusCode: attempt.response?.statusCode,
    errorClass: attempt.errorClass,
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
  });
  if (delay === null) return { ...base, status: 'failure', nextAttemptAt: null };
  return { ...base, status: 'attempting', nextAttemptAt: now + delay };
}
