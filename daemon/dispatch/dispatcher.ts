import type { Logger } from 'pino';
import type { MessageRecord } from '../store/records.js';
import type { Attempts, Job } from './attempt.js';
import type { WriteHealth } from '../store/write-health.js';
import type { ConsumerRegistry } from './consumers.js';
import { GroupShares, type Share } from './group-shares.js';

export type { Job } from './attempt.js';

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
  /** The lane was woken by its rate timer: the next slot follows the one it waited for, within limits. */
  woken: boolean;
}

/** Jobs a consumer may have waiting in memory; the rest wait in the store's due index. */
const LANE_QUEUE_LIMIT = 1000;
/** Retries due sooner than this wait on a timer; later ones wait for the sweeper. */
const SHORT_RETRY_MS = 5000;
const SHORT_RETRY_TIMER_LIMIT = 10_000;
/** How much of a rate interval a late rate timer may win back. */
const LATE_TIMER_CATCH_UP = 0.05;

/**
 * Runs attempts (attempt.ts): one lane per consumer, with this instance's share of the
 * consumer's concurrency and rate limit (group-shares.ts), so a slow or dead consumer only ever
 * occupies its own lane. A message is in at most one place in
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

  /** Lanes waiting for the store to be writable again. */
  private readonly waitingForStore = new Set<string>();
  /** This instance's part of each consumer's limits. */
  readonly shares: GroupShares;

  constructor(
    private readonly consumers: ConsumerRegistry,
    private readonly attempts: Attempts,
    /** An attempt that cannot be recorded would be sent again later: none starts while the store fails. */
    private readonly storeHealth: Pick<WriteHealth, 'healthy' | 'whenHealthy'>,
    private readonly log: Logger,
  ) {
    this.shares = new GroupShares(log);
  }

  /**
   * Takes the ids of the group's live instances: each consumer's limits are shared anew, and
   * lanes that may now start more requests do.
   */
  setLiveInstances(liveIds: readonly string[], self: string): void {
    if (!this.shares.setLive(liveIds, self, this.consumers.all())) return;
    for (const [consumerId, lane] of this.lanes) this.pump(consumerId, lane);
  }

  /** This instance's part of the consumer's rateLimit and concurrency. */
  shareOf(consumerId: string): Share | undefined {
    const consumer = this.consumers.get(consumerId);
    return consumer === undefined ? undefined : this.shares.of(consumer);
  }

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

  /**
   * Holds the message back from every lane until `release`, so its record can be changed without
   * an attempt writing over the change; false when it is queued or in flight already. A message
   * waiting on a short retry timer is taken off the timer: the due index still has it.
   */
  claim(message: MessageRecord): boolean {
    if (this.held.has(message.id)) return false;
    const timer = this.timers.get(message.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(message.id);
      const lane = this.lanes.get(message.consumerId);
      if (lane !== undefined) {
        lane.onTimer -= 1;
        this.dropIfIdle(message.consumerId, lane);
      }
    }
    this.held.add(message.id);
    return true;
  }

  /** Ends a claim. A sweep running meanwhile may have read the message before it changed: it passes over it. */
  release(messageId: string): void {
    this.held.delete(messageId);
    for (const finished of this.finishedTrackers) finished.add(messageId);
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
      lane = { queue: [], active: 0, recording: 0, onTimer: 0, nextSlot: 0, wake: undefined, woken: false };
      this.lanes.set(consumerId, lane);
    }
    return lane;
  }

  /** Starts queued jobs while the lane's concurrency and rate limit allow. */
  private pump(consumerId: string, lane: Lane): void {
    if (!this.storeHealth.healthy) {
      if (!this.waitingForStore.has(consumerId)) {
        this.waitingForStore.add(consumerId);
        void this.storeHealth.whenHealthy().then(() => {
          this.waitingForStore.delete(consumerId);
          this.pump(consumerId, lane);
        });
      }
      return;
    }
    const consumer = this.consumers.get(consumerId);
    const share = consumer === undefined ? undefined : this.shares.of(consumer);
    const limit = share?.concurrency ?? 1;
    let woken = lane.woken;
    lane.woken = false;
    while (lane.active < limit && lane.queue.length > 0 && !this.stopping && lane.wake === undefined) {
      if (share?.rateLimit !== undefined && !consumer?.disabled) {
        const now = Date.now();
        if (lane.nextSlot > now) {
          lane.wake = setTimeout(() => {
            lane.wake = undefined;
            lane.woken = true;
            this.pump(consumerId, lane);
          }, lane.nextSlot - now);
          return;
        }
        const interval = 1000 / share.rateLimit;
        // A rate timer that fired a little late does not slow the rate down: the next slot follows
        // the one waited for, so two requests are never closer than 95 % of the interval.
        const from = Math.max(lane.nextSlot, woken ? now - interval * LATE_TIMER_CATCH_UP : now);
        woken = false;
        lane.nextSlot = from + interval;
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
      this.attempts
        .run(job, consumer, release)
        .then((after) => {
          if (after !== undefined && after.nextAttemptAt !== null && job.trigger === 'scheduled')
            this.retrySoon(after, job);
        })
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

  /** Keeps a retry that falls due soon on a timer; later ones are left to the sweeper. */
  private retrySoon(message: MessageRecord, { body, bytes }: Job): void {
    const delay = (message.nextAttemptAt as number) - Date.now();
    if (this.stopping || delay > SHORT_RETRY_MS || this.timers.size >= SHORT_RETRY_TIMER_LIMIT) return;
    const lane = this.lane(message.consumerId);
    lane.onTimer += 1;
    const timer = setTimeout(
      () => {
        this.timers.delete(message.id);
        lane.onTimer -= 1;
        if (!this.enqueue({ message, body, bytes, trigger: 'scheduled' })) this.dropIfIdle(message.consumerId, lane);
      },
      Math.max(0, delay),
    );
    this.timers.set(message.id, timer);
  }
}
