import { CronJob } from 'cron';
import type { Logger } from 'pino';
import type { BatchOp, Store } from '../store/store.js';
import { progressOf } from './task-progress.js';

const PURGE_BATCH = 500;

/**
 * Deletes what is older than the retention period: finished messages with their attempts,
 * events none of whose messages still waits for an attempt, dead letters, and tasks that
 * finished. Pending work is never purged, however old.
 */
export async function purgeOlderThan(
  store: Store,
  cutoff: number,
  log: Logger,
): Promise<{ messages: number; events: number; deadLetters: number; tasks: number }> {
  const counts = { messages: 0, events: 0, deadLetters: 0, tasks: 0 };
  let ops: BatchOp[] = [];
  const flushIfFull = async (force = false) => {
    if (ops.length >= PURGE_BATCH || (force && ops.length > 0)) {
      await store.write(ops);
      ops = [];
    }
  };
  for await (const message of store.scans.messagesBefore(cutoff)) {
    if (message.nextAttemptAt !== null) continue;
    ops.push(...(await store.messageDeleteOps(message)));
    counts.messages += 1;
    await flushIfFull();
  }
  await flushIfFull(true);
  for await (const event of store.scans.eventsBefore(cutoff)) {
    // Old finished messages are gone by now: what remains is pending or newer (a replay).
    if (await store.scans.eventHasMessages(event.id)) continue;
    ops.push(...store.eventDeleteOps(event));
    counts.events += 1;
    await flushIfFull();
  }
  for await (const key of store.scans.deadLetterKeysBefore(cutoff)) {
    ops.push(...store.deadLetterDeleteOps(key));
    counts.deadLetters += 1;
    await flushIfFull();
  }
  await flushIfFull(true);
  // Tasks are in the control bucket, shared: any instance's purge deletes those finished long ago.
  const finished = store.control.tasks().filter((task) => {
    const { finishedAt } = progressOf(task, store.control.taskParts(task.id), new Set());
    return finishedAt !== null && finishedAt < cutoff;
  });
  if (finished.length > 0) await store.control.deleteTasks(finished.map((task) => task.id));
  counts.tasks = finished.length;
  if (counts.messages + counts.events + counts.deadLetters + counts.tasks > 0)
    log.info(counts, 'purged records past storage.retention');
  return counts;
}

/** Runs the purge on its cron schedule. */
export class Purger {
  private readonly job: CronJob;
  private running: Promise<unknown> | undefined;

  constructor(store: Store, retentionMs: number, schedule: string, log: Logger) {
    this.job = CronJob.from({
      cronTime: schedule,
      onTick: async () => {
        this.running = purgeOlderThan(store, Date.now() - retentionMs, log);
        await this.running;
      },
      start: false,
      waitForCompletion: true,
      errorHandler: (error) => log.error({ err: error }, 'purge failed; the next run tries again'),
    });
  }

  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    await this.running?.catch(() => undefined);
  }
}
