import { CronJob } from 'cron';
import type { Logger } from 'pino';
import type { Metrics } from '../common/metrics.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { MessageRecord } from '../store/records.js';
import type { Store } from '../store/store.js';

/** Due entries handed to the dispatcher in one sweep at most; the rest wait for the next. */
const SWEEP_BUDGET = 20_000;
/**
 * Messages of fan-out records (store/fanouts.ts) wait in memory for room in their lane this
 * long at most; then they are written into the due index, so memory does not grow with a
 * consumer's backlog.
 */
const FANOUT_WAIT_MS = 5000;

/**
 * Hands messages that have fallen due to the dispatcher. For each consumer with pending work
 * it reads the due index from the oldest entry, only as far as now and only as many as the
 * consumer's lane has room for, so a sweep costs what is handed over, never what is pending.
 * The index is the durable record of every message that still needs an attempt: after a
 * restart, the first sweep picks up whatever was in flight or waiting.
 */
export class Sweeper {
  private readonly job: CronJob;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: Store,
    private readonly dispatcher: Dispatcher,
    schedule: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.job = CronJob.from({
      cronTime: schedule,
      onTick: () => this.sweepOnce(),
      start: false,
      waitForCompletion: true,
      errorHandler: (error) => this.log.error({ err: error }, 'sweep failed; the next sweep tries again'),
    });
  }

  start(): void {
    this.job.start();
    void this.sweepOnce();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    await this.running;
  }

  /** One sweep; concurrent calls share the sweep in progress. */
  sweepOnce(): Promise<void> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * A sweep as soon as possible: now, or right after the one in progress (which may have passed the consumer that
   * asked).
   */
  sweepSoon(): void {
    if (this.running === undefined) {
      void this.sweepOnce().catch((error) =>
        this.log.error({ err: error }, 'sweep failed; the next sweep tries again'),
      );
      return;
    }
    if (this.again) return;
    this.again = true;
    void this.running.finally(() => {
      this.again = false;
      this.sweepSoon();
    });
  }

  private async sweep(): Promise<void> {
    // Attempts that could not be recorded would be sent again: none while the store fails.
    if (!this.store.health.healthy) return;
    const now = Date.now();
    let handed = 0;
    let oldestDue = now;
    const finished = this.dispatcher.trackFinished();
    try {
      handed += await this.fromFanouts(now, finished);
      for await (const consumerId of this.store.due.consumers()) {
        const room = Math.min(this.dispatcher.room(consumerId), SWEEP_BUDGET - handed);
        if (room <= 0) {
          this.dispatcher.markBacklog(consumerId);
          continue;
        }
        // Entries the dispatcher already holds are due too: read past them (keys only).
        const wanted = room + this.dispatcher.heldCount(consumerId);
        const keys = await this.store.due.keys(consumerId, now, wanted);
        if (keys.length === wanted) this.dispatcher.markBacklog(consumerId);
        const entries = await this.store.due.messagesOf(
          keys.filter((key) => !this.dispatcher.has(this.store.due.messageId(key))),
        );
        const fresh: MessageRecord[] = [];
        const stale: string[] = [];
        for (const { key, message } of entries) {
          if (message === undefined) stale.push(key);
          else fresh.push(message);
        }
        if (stale.length > 0) await this.store.due.drop(stale);
        if (fresh.length === 0) continue;
        const bodies = await this.store.eventBodies(fresh.map((m) => m.eventId));
        // Each event's body encoded once for all its messages.
        const encoded = new Map<string, Buffer>();
        for (const message of fresh) {
          // Read before the awaits: skip what was taken or attempted meanwhile.
          if (this.dispatcher.has(message.id) || finished.has(message.id)) continue;
          const body = bodies.get(message.eventId);
          let bytes = encoded.get(message.eventId);
          if (body !== undefined && bytes === undefined) encoded.set(message.eventId, (bytes = Buffer.from(body)));
          if (!this.dispatcher.enqueue({ message, body, bytes, trigger: 'scheduled' })) continue;
          handed += 1;
          oldestDue = Math.min(oldestDue, message.nextAttemptAt ?? now);
        }
      }
    } finally {
      this.dispatcher.untrackFinished(finished);
    }
    this.metrics.swept(now - oldestDue);
    if (handed > 0) this.log.debug({ handed }, 'sweep handed due messages to the dispatcher');
  }

  /**
   * Messages of fan-out records that their lane did not take at ingest: handed over as far as
   * the lane has room, and written into the due index once they have waited FANOUT_WAIT_MS.
   */
  private async fromFanouts(now: number, finished: Set<string>): Promise<number> {
    let handed = 0;
    const { fanouts } = this.store;
    for (const consumerId of fanouts.consumers()) {
      const waiting = [...fanouts.of(consumerId)].filter((m) => !this.dispatcher.has(m.id) && !finished.has(m.id));
      if (waiting.length === 0) continue;
      const room = Math.max(0, Math.min(this.dispatcher.room(consumerId), SWEEP_BUDGET - handed));
      const bodies = await this.store.eventBodies(waiting.slice(0, room).map((m) => m.eventId));
      const encoded = new Map<string, Buffer>();
      let taken = 0;
      for (const message of waiting.slice(0, room)) {
        if (this.dispatcher.has(message.id) || finished.has(message.id) || !fanouts.has(message.id)) continue;
        const body = bodies.get(message.eventId);
        let bytes = encoded.get(message.eventId);
        if (body !== undefined && bytes === undefined) encoded.set(message.eventId, (bytes = Buffer.from(body)));
        if (!this.dispatcher.enqueue({ message, body, bytes, trigger: 'scheduled' })) break;
        taken += 1;
      }
      handed += taken;
      if (taken < waiting.length) this.dispatcher.markBacklog(consumerId);
      // Read and written with no await between: what a lane holds now is left alone.
      const old = waiting
        .slice(taken)
        .filter((m) => m.createdAt <= now - FANOUT_WAIT_MS && !this.dispatcher.has(m.id) && !finished.has(m.id));
      const ops = this.store.materializeOps(old);
      if (ops.length > 0) await this.store.write(ops, true);
    }
    return handed;
  }
}
