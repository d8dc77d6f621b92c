import type { Logger } from 'pino';
import type { Webhook } from '../plugins/contract.js';
import type { Consumer, ConsumerRegistry } from './consumers.js';
import type { ConsumerHealth } from './health.js';
import { redactHeaders, sendHttp } from './http-attempt.js';
import type { OpsEvents } from './ops-events.js';
import type { AttemptRecord, MessageRecord } from './records.js';
import type { Metrics } from './metrics.js';
import type { LiveConfig } from './reload.js';
import { activeKeys } from './secrets.js';
import type { Store } from './store.js';

/** A message ready for an attempt; `body` saves a read when the caller has the event at hand. */
export interface Job {
  message: MessageRecord;
  body?: string;
  trigger: 'scheduled' | 'manual';
}

interface Lane {
  queue: Job[];
  /** Requests in flight: at most the consumer's concurrency. */
  active: number;
  /** Attempts answered whose record is being written. */
  recording: number;
  /** Messages of this lane waiting on a short retry timer. */
  onTimer: number;
  /** Earliest time the next request may start under the consumer's rateLimit. */
  nextSlot: number;
  wake: NodeJS.Timeout | undefined;
}

/** Jobs a consumer may have waiting in memory; the rest wait in the store's due index. */
const LANE_QUEUE_LIMIT = 1000;
/** Retries due sooner than this wait on a timer; later ones wait for the sweeper. */
const SHORT_RETRY_MS = 5000;
const SHORT_RETRY_TIMER_LIMIT = 10_000;

/**
 * Runs attempts: one lane per consumer, with the consumer's own concurrency and rate limit,
 * so a slow or dead consumer only ever occupies its own lane. Every attempt is recorded with
 * the message's new status and due time in one write. A message is in at most one place in
 * memory at a time (`has`), which is how the sweeper avoids sending it twice.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  /** Messages queued or in flight. */
  private readonly held = new Set<string>();
  /** Messages waiting on a short retry timer. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Sets collecting the messages whose attempt finished while a sweep runs. */
  private readonly finishedTrackers = new Set<Set<string>>();
  /** Consumers whose due messages did not all fit in their lane. */
  private readonly backlogged = new Set<string>();
  /** Fetches more due messages; set by whoever owns the sweeper. */
  refill: (() => void) | undefined;
  private inFlight = 0;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly consumers: ConsumerRegistry,
    private readonly health: ConsumerHealth,
    private readonly ops: OpsEvents,
    private readonly live: LiveConfig,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** True while the message is queued, in flight or waiting on a short retry timer. */
  has(messageId: string): boolean {
    return this.held.has(messageId) || this.timers.has(messageId);
  }

  /**
   * Starts collecting the ids of messages whose attempt finishes from now on: a sweep reads
   * the due index, then awaits, and must not hand back a message attempted meanwhile.
   */
  trackFinished(): Set<string> {
    const finished = new Set<string>();
    this.finishedTrackers.add(finished);
    return finished;
  }

  untrackFinished(finished: Set<string>): void {
    this.finishedTrackers.delete(finished);
  }

  /** How many more jobs the consumer's lane takes now. */
  room(consumerId: string): number {
    return this.stopping ? 0 : LANE_QUEUE_LIMIT - (this.lanes.get(consumerId)?.queue.length ?? 0);
  }

  /** Messages of the consumer held in memory (queued, in flight or on a timer). */
  heldCount(consumerId: string): number {
    const lane = this.lanes.get(consumerId);
    return lane === undefined ? 0 : lane.queue.length + lane.active + lane.recording + lane.onTimer;
  }

  /**
   * Says the consumer has more due messages in the store than its lane took: once the lane
   * has drained to half, `refill` is called (the sweeper fetches more) instead of waiting for
   * the next scheduled sweep.
   */
  markBacklog(consumerId: string): void {
    this.backlogged.add(consumerId);
  }

  /** Queues a job; false when it was not taken (it stays due in the store for the sweeper). */
  enqueue(job: Job): boolean {
    const { id, consumerId } = job.message;
    if (this.has(id)) return false;
    if (this.room(consumerId) <= 0) {
      this.backlogged.add(consumerId);
      return false;
    }
    this.held.add(id);
    const lane = this.lane(consumerId);
    lane.queue.push(job);
    this.pump(consumerId, lane);
    return true;
  }

  /** Stops taking jobs, drops queued ones (they stay due in the store) and waits for in-flight attempts. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.wake);
      for (const job of lane.queue.splice(0)) this.held.delete(job.message.id);
    }
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (this.inFlight > 0)
      this.log.warn(
        { inFlight: this.inFlight },
        'shutdown timeout: attempts still in flight stay due and are retried after restart',
      );
  }

  private lane(consumerId: string): Lane {
    let lane = this.lanes.get(consumerId);
    if (lane === undefined) {
      lane = { queue: [], active: 0, recording: 0, onTimer: 0, nextSlot: 0, wake: undefined };
      this.lanes.set(consumerId, lane);
    }
    return lane;
  }

  /** Starts queued jobs while the lane's concurrency and rate limit allow. */
  private pump(consumerId: string, lane: Lane): void {
    const consumer = this.consumers.get(consumerId);
    const limit = consumer?.concurrency ?? 1;
    while (lane.active < limit && lane.queue.length > 0 && !this.stopping && lane.wake === undefined) {
      if (consumer?.rateLimit !== undefined && !consumer.disabled) {
        const now = Date.now();
        if (lane.nextSlot > now) {
          lane.wake = setTimeout(() => {
            lane.wake = undefined;
            this.pump(consumerId, lane);
          }, lane.nextSlot - now);
          return;
        }
        lane.nextSlot = Math.max(lane.nextSlot, now) + 1000 / consumer.rateLimit;
      }
      const job = lane.queue.shift() as Job;
      if (lane.queue.length < LANE_QUEUE_LIMIT / 2 && this.backlogged.delete(consumerId)) this.refill?.();
      lane.active += 1;
      this.inFlight += 1;
      // The request's slot frees as soon as the answer is in; the message stays held until its record is written.
      let answered = false;
      const release = () => {
        if (answered) return;
        answered = true;
        lane.active -= 1;
        lane.recording += 1;
        this.pump(consumerId, lane);
      };
      this.run(job, consumer, release)
        .catch((error) =>
          this.log.error(
            { err: error, messageId: job.message.id },
            'attempt could not be recorded; it stays due and will be retried',
          ),
        )
        .finally(() => {
          if (answered) lane.recording -= 1;
          else lane.active -= 1;
          this.inFlight -= 1;
          this.held.delete(job.message.id);
          for (const finished of this.finishedTrackers) finished.add(job.message.id);
          if (this.inFlight === 0) this.idle?.();
          this.pump(consumerId, lane);
          this.dropIfIdle(consumerId, lane);
        });
    }
  }

  /** Forgets an idle lane, unless its rate limit still holds back the next request. */
  private dropIfIdle(consumerId: string, lane: Lane): void {
    if (
      lane.queue.length === 0 &&
      lane.active === 0 &&
      lane.recording === 0 &&
      lane.onTimer === 0 &&
      lane.wake === undefined &&
      lane.nextSlot <= Date.now()
    )
      this.lanes.delete(consumerId);
  }

  /** One attempt of the job, recorded; `answered` is called once no request is open any more. */
  private async run(job: Job, consumer: Consumer | undefined, answered: () => void): Promise<void> {
    const { message } = job;
    const now = Date.now();
    if (consumer === undefined || consumer.disabled) {
      const reason =
        consumer === undefined
          ? `consumer "${message.consumerId}" is not configured`
          : `consumer "${message.consumerId}" is disabled`;
      if (job.trigger === 'manual') this.log.warn({ messageId: message.id }, `manual attempt not sent: ${reason}`);
      else await this.finishWithout(message, 'skipped', reason, now);
      return;
    }
    const body = job.body ?? (await this.store.getEvent(message.eventId))?.body;
    if (body === undefined) {
      await this.finishWithout(message, 'failure', 'the event is no longer stored', now);
      return;
    }
    const startedAt = Date.now();
    const prepared = this.prepare(consumer, body);
    if (prepared.cancelled) {
      await this.finishWithout(message, 'cancelled', 'a transform cancelled this message', now);
      return;
    }
    let attempt: AttemptRecord;
    const base = { messageId: message.id, attempt: message.attempts + 1, trigger: job.trigger, startedAt };
    if (prepared.error !== undefined) {
      attempt = {
        ...base,
        durationMs: 0,
        timings: {},
        outcome: 'failure',
        errorClass: 'transform',
        error: prepared.error,
        request: { method: 'POST', url: consumer.url, headers: redactHeaders(consumer.headers) },
      };
    } else {
      const { webhook, body: sent } = prepared;
      const headers = {
        ...webhook.headers,
        'content-type': 'application/json',
        ...consumer.pipeline.sign.headers({
          messageId: message.id,
          timestamp: Math.floor(startedAt / 1000),
          body: sent,
          keys: activeKeys(consumer.signingKeys, startedAt),
        }),
      };
      const request = { method: webhook.method, url: webhook.url, headers, body: sent };
      const outcome = await sendHttp(consumer, request, this.live.config.delivery.maxResponseBytes, this.live.guard);
      answered();
      attempt = {
        ...base,
        ...outcome,
        request: {
          method: request.method,
          url: request.url,
          headers: redactHeaders(headers),
          ...(sent === body ? {} : { body: sent }),
        },
      };
    }
    const after = this.nextState(message, attempt, consumer, Date.now());
    await this.store.write([...this.store.attemptOps(attempt), ...this.store.messageUpdateOps(message, after)]);
    this.metrics.attempted(consumer.id, attempt.outcome, attempt.durationMs, message.createdAt);
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
    if (after.nextAttemptAt !== null && job.trigger === 'scheduled') this.retrySoon(after, body);
  }

  /**
   * Runs the consumer's transforms over the request. Without transforms the envelope bytes
   * go out as they are; with them, the body is the transformed payload serialised.
   */
  private prepare(
    consumer: Consumer,
    envelope: string,
  ):
    | { webhook: Webhook; body: string; cancelled?: false; error?: undefined }
    | { cancelled: true; error?: undefined }
    | { error: string; cancelled?: false } {
    let webhook: Webhook = {
      method: 'POST',
      url: consumer.url,
      headers: { ...consumer.headers },
      payload: undefined,
      cancel: false,
    };
    const { transforms } = consumer.pipeline;
    if (transforms.length === 0) return { webhook, body: envelope };
    try {
      webhook.payload = JSON.parse(envelope);
      for (const transform of transforms) webhook = transform(webhook);
    } catch (error) {
      return { error: (error as Error).message };
    }
    if (webhook.cancel) return { cancelled: true };
    return { webhook, body: JSON.stringify(webhook.payload) };
  }

  /** Ends a message that could not be attempted: its status says why, and it stays replayable. */
  private async finishWithout(
    message: MessageRecord,
    status: MessageRecord['status'],
    reason: string,
    now: number,
  ): Promise<void> {
    const after: MessageRecord = { ...message, status, nextAttemptAt: null, updatedAt: now, lastError: reason };
    await this.store.write(this.store.messageUpdateOps(message, after));
  }

  /** A manual attempt changes the status but not the schedule; a scheduled one moves it on. */
  private nextState(message: MessageRecord, attempt: AttemptRecord, consumer: Consumer, now: number): MessageRecord {
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
    const scheduledAttempts = attempt.attempt - manualAttempts;
    const retryAfter = attempt.response?.headers['retry-after'];
    const delay = consumer.pipeline.retry.nextDelay({
      schedule: consumer.retrySchedule,
      attemptsMade: scheduledAttempts,
      failed: {
        statusCode: attempt.response?.statusCode,
        errorClass: attempt.errorClass,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      },
    });
    if (delay === null) return { ...base, status: 'failure', nextAttemptAt: null };
    return { ...base, status: 'attempting', nextAttemptAt: now + delay };
  }

  /** Keeps a retry that falls due soon on a timer; later ones are left to the sweeper. */
  private retrySoon(message: MessageRecord, body: string): void {
    const delay = (message.nextAttemptAt as number) - Date.now();
    if (this.stopping || delay > SHORT_RETRY_MS || this.timers.size >= SHORT_RETRY_TIMER_LIMIT) return;
    const lane = this.lane(message.consumerId);
    lane.onTimer += 1;
    const timer = setTimeout(
      () => {
        this.timers.delete(message.id);
        lane.onTimer -= 1;
        if (!this.enqueue({ message, body, trigger: 'scheduled' })) this.dropIfIdle(message.consumerId, lane);
      },
      Math.max(0, delay),
    );
    this.timers.set(message.id, timer);
  }
}
