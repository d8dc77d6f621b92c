import { CronJob } from 'cron';
import type { Logger } from 'pino';
import type { Dispatcher } from './dispatcher.js';
import type { Store } from './store.js';

/** Due entries handed to the dispatcher in one sweep at most; the rest wait for the next. */
const SWEEP_BUDGET = 20_000;

/**
 * Hands retries that have fallen due to the dispatcher. It reads the due index from its
 * oldest entry up to now, so a sweep costs what is due, never what is pending. The index is
 * the durable record of every message that still needs an attempt: after a restart, the
 * first sweep picks up whatever was in flight or waiting.
 */
export class Sweeper {
  private readonly job: CronJob;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly dispatcher: Dispatcher,
    schedule: string,
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

  private async sweep(): Promise<void> {
    let handed = 0;
    for await (const entry of this.store.dueBefore(Date.now())) {
      if (handed >= SWEEP_BUDGET) break;
      if (this.dispatcher.has(entry.messageId) || !this.dispatcher.hasRoom(entry.consumerId)) continue;
      const message = await this.store.getMessage(entry.messageId);
      if (message === undefined) {
        await this.store.write([{ type: 'del', sublevel: this.store.due, key: entry.key }]);
        continue;
      }
      // The index is read from a snapshot: skip entries that changed or were taken meanwhile.
      if (message.nextAttemptAt !== entry.dueAt || this.dispatcher.has(message.id)) continue;
      if (this.dispatcher.enqueue({ message, trigger: 'scheduled' })) handed += 1;
    }
    if (handed > 0) this.log.debug({ handed }, 'sweep handed due messages to the dispatcher');
  }
}
