import type { Logger } from 'pino';
import { nextDelay } from '../plugins/schedule.js';
import { webhookHeaders } from '../plugins/standardWebhooks.js';
import type { Consumer, ConsumerRegistry } from './consumers.js';
import { redactHeaders, sendHttp } from './http-attempt.js';
import type { AttemptRecord, MessageRecord } from './records.js';
import type { LiveConfig } from './reload.js';
import type { Store } from './store.js';

/** A message ready for an attempt; `body` saves a read when the caller has the event at hand. */
export interface Job {
  message: MessageRecord;
  body?: string;
  trigger: 'scheduled' | 'manual';
}

interface Lane {
  queue: Job[];
  active: number;
}

/** Jobs a consumer may have waiting in memory; the rest wait in the store's due index. */
const LANE_QUEUE_LIMIT = 1000;
/** Retries due sooner than this wait on a timer; later ones wait for the sweeper. */
const SHORT_RETRY_MS = 5000;
const SHORT_RETRY_TIMER_LIMIT = 10_000;

/**
 * Runs attempts: one lane per consumer, each with its own concurrency, so a slow consumer
 * only ever occupies its own lane. Every attempt is recorded together with the message's new
 * status and due time in one write; a message is in at most one place in memory at a time
 * (`has`), which is how the sweeper avoids sending it twice.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  /** Messages queued or in flight. */
  private readonly held = new Set<string>();
  /** Messages waiting on a short retry timer. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private inFlight = 0;
  private stopping = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly consumers: ConsumerRegistry,
    private readonly live: LiveConfig,
    private readonly log: Logger,
  ) {}

  /** True while the message is queued, in flight or waiting on a short retry timer. */
  has(messageId: string): boolean {
    return this.held.has(messageId) || this.timers.has(messageId);
  }

  /** Whether the consumer's lane takes another job now. */
  hasRoom(consumerId: string): boolean {
    return !this.stopping && (this.lanes.get(consumerId)?.queue.length ?? 0) < LANE_QUEUE_LIMIT;
  }

  /** Queues a job; false when it was not taken (it stays due in the store for the sweeper). */
  enqueue(job: Job): boolean {
    const id = job.message.id;
    if (this.has(id) || !this.hasRoom(job.message.consumerId)) return false;
    this.held.add(id);
    const lane = this.lane(job.message.consumerId);
    lane.queue.push(job);
    this.pump(job.message.consumerId, lane);
    return true;
  }

  /** Stops taking jobs, drops queued ones (they stay due in the store) and waits for in-flight attempts. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const lane of this.lanes.values()) {
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
    if (this.inFlight > 0) this.log.warn({ inFlight: this.inFlight }, 'shutdown timeout: attempts still in flight stay due and are retried after restart');
  }

  private lane(consumerId: string): Lane {
    let lane = this.lanes.get(consumerId);
    if (lane === undefined) {
      lane = { queue: [], active: 0 };
      this.lanes.set(consumerId, lane);
    }
    return lane;
  }

  private pump(consumerId: string, lane: Lane): void {
    const consumer = this.consumers.get(consumerId);
    const limit = consumer?.concurrency ?? 1;
    while (lane.active < limit && lane.queue.length > 0 && !this.stopping) {
      const job = lane.queue.shift() as Job;
      lane.active += 1;
      this.inFlight += 1;
      this.run(job, consumer)
        .catch((error) => this.log.error({ err: error, messageId: job.message.id }, 'attempt could not be recorded; it stays due and will be retried'))
        .finally(() => {
          lane.active -= 1;
          this.inFlight -= 1;
          this.held.delete(job.message.id);
          if (this.inFlight === 0) this.idle?.();
          if (lane.queue.length > 0) this.pump(consumerId, lane);
          else if (lane.active === 0) this.lanes.delete(consumerId);
        });
    }
  }

  private async run(job: Job, consumer: Consumer | undefined): Promise<void> {
    const { message } = job;
    const now = Date.now();
    if (consumer === undefined || consumer.disabled) {
      const reason = consumer === undefined ? `consumer "${message.consumerId}" is not configured` : `consumer "${message.consumerId}" is disabled`;
      const after: MessageRecord = { ...message, status: 'skipped', nextAttemptAt: null, updatedAt: now, lastError: reason };
      await this.store.write(this.store.messageUpdateOps(message, after));
      return;
    }
    const body = job.body ?? (await this.store.getEvent(message.eventId))?.body;
    if (body === undefined) {
      const after: MessageRecord = { ...message, status: 'failure', nextAttemptAt: null, updatedAt: now, lastError: 'the event is no longer stored' };
      await this.store.write(this.store.messageUpdateOps(message, after));
      return;
    }
    const attemptNo = message.attempts + 1;
    const startedAt = Date.now();
    const headers = {
      ...consumer.headers,
      'content-type': 'application/json',
      ...webhookHeaders(consumer.signingKeys, message.id, Math.floor(startedAt / 1000), body),
    };
    const request = { method: 'POST' as const, url: consumer.url, headers, body };
    const outcome = await sendHttp(consumer, request, this.live.config.delivery.maxResponseBytes);
    const attempt: AttemptRecord = {
      messageId: message.id,
      attempt: attemptNo,
      trigger: job.trigger,
      startedAt,
      ...outcome,
      request: { ...request, headers: redactHeaders(headers) },
    };
    const finishedAt = Date.now();
    const after = this.nextState(message, attempt, consumer, finishedAt);
    await this.store.write([...this.store.attemptOps(attempt), ...this.store.messageUpdateOps(message, after)]);
    if (after.nextAttemptAt !== null) this.retrySoon(after, body);
  }

  private nextState(message: MessageRecord, attempt: AttemptRecord, consumer: Consumer, now: number): MessageRecord {
    const base = { ...message, attempts: attempt.attempt, updatedAt: now, lastStatusCode: attempt.response?.statusCode, lastError: attempt.error };
    if (attempt.outcome === 'success') return { ...base, status: 'success', nextAttemptAt: null };
    if (attempt.trigger === 'manual') return { ...base, nextAttemptAt: message.nextAttemptAt };
    const delay = nextDelay(consumer.retrySchedule, attempt.attempt, this.live.config.delivery.jitter);
    if (delay === null) return { ...base, status: 'failure', nextAttemptAt: null };
    return { ...base, status: 'attempting', nextAttemptAt: now + delay };
  }

  /** Keeps a retry that falls due soon on a timer; later ones are left to the sweeper. */
  private retrySoon(message: MessageRecord, body: string): void {
    const delay = (message.nextAttemptAt as number) - Date.now();
    if (this.stopping || delay > SHORT_RETRY_MS || this.timers.size >= SHORT_RETRY_TIMER_LIMIT) return;
    const timer = setTimeout(() => {
      this.timers.delete(message.id);
      this.enqueue({ message, body, trigger: 'scheduled' });
    }, Math.max(0, delay));
    this.timers.set(message.id, timer);
  }
}
