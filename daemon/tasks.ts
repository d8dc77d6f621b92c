import type { Logger } from 'pino';
import type { Consumer, ConsumerRegistry } from './consumers.js';
import type { Dispatcher } from './dispatcher.js';
import { envelopeOf } from './envelope.js';
import { HooksdError } from './errors.js';
import { MOCK_EVENT_SUBJECT, sendAgain } from './fanout.js';
import { sortableId } from './ids.js';
import type { Store } from './store.js';

export type TaskKind = 'recover' | 'replay-missing';

/** A bulk task as stored and as the API shows it. */
export interface TaskRecord {
  id: string;
  kind: TaskKind;
  consumerId: string;
  since: number;
  until: number | null;
  status: 'running' | 'done' | 'failed';
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** Index key of the last record looked at: a resumed task carries on after it. */
  position: string | null;
  /** Records looked at: the consumer's messages (recover) or events (replay-missing). */
  examined: number;
  /** Messages resent (recover) or created (replay-missing). */
  sent: number;
  error: string | null;
}

const STEP = 100;
const WAIT_MS = 25;

/**
 * Runs `recover` and `replay-missing` in the background, a step at a time, saving where each
 * step ended. Work is handed to the consumer's lane only when the lane has caught up, so the
 * consumer's concurrency and rateLimit pace a task and it never crowds out new deliveries.
 * Tasks still running at shutdown carry on from their last step after a restart (a step cut
 * short may be handed over again; a message already delivered since is not resent).
 */
export class Tasks {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly consumers: ConsumerRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {}

  /** Resumes the tasks a previous run left unfinished. */
  async start(): Promise<void> {
    const tasks: TaskRecord[] = await this.store.tasks.values().all();
    for (const task of tasks.filter((t) => t.status === 'running')) {
      this.log.info({ taskId: task.id, kind: task.kind, examined: task.examined }, 'resuming task');
      this.run(task);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running.values());
  }

  async create(kind: TaskKind, consumerId: string, since: number, until: number | null): Promise<TaskRecord> {
    const now = Date.now();
    const task: TaskRecord = { id: sortableId('task_', now), kind, consumerId, since, until, status: 'running', createdAt: now, updatedAt: now, finishedAt: null, position: null, examined: 0, sent: 0, error: null };
    await this.save(task);
    this.run(task);
    return task;
  }

  async get(id: string): Promise<TaskRecord> {
    const task: TaskRecord | undefined = await this.store.tasks.get(id);
    if (task === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no task with id "${id}"`);
    return task;
  }

  private run(task: TaskRecord): void {
    const work = this.steps(task)
      .catch(async (error: Error) => {
        this.log.error({ err: error, taskId: task.id }, 'task failed');
        await this.save({ ...task, status: 'failed', error: error.message, finishedAt: Date.now() });
      })
      .finally(() => this.running.delete(task.id));
    this.running.set(task.id, work);
  }

  private async steps(task: TaskRecord): Promise<void> {
    while (!this.stopping) {
      const consumer = this.consumers.get(task.consumerId);
      if (consumer === undefined) throw new Error(`consumer "${task.consumerId}" no longer exists`);
      if (!(await this.caughtUp(consumer))) continue;
      const more = task.kind === 'recover' ? await this.recoverStep(task, consumer) : await this.replayStep(task, consumer);
      task.updatedAt = Date.now();
      if (!more) {
        task.status = 'done';
        task.finishedAt = task.updatedAt;
      }
      await this.save(task);
      if (!more) {
        this.log.info({ taskId: task.id, kind: task.kind, examined: task.examined, sent: task.sent }, 'task done');
        return;
      }
    }
  }

  /** Waits a moment unless the consumer has room for a step: a disabled consumer holds the task until it is enabled. */
  private async caughtUp(consumer: Consumer): Promise<boolean> {
    if (!consumer.disabled && this.dispatcher.heldCount(consumer.id) < consumer.concurrency) return true;
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    return false;
  }

  /** Resends the consumer's failed messages as manual attempts (same webhook-id); false when none are left. */
  private async recoverStep(task: TaskRecord, consumer: Consumer): Promise<boolean> {
    const found = await this.store.consumerMessagesBetween(consumer.id, task.since, task.until ?? Date.now(), task.position, STEP);
    for (const { key, message } of found) {
      task.position = key;
      task.examined += 1;
      if (message.status === 'failure' && this.dispatcher.enqueue({ message, trigger: 'manual' })) task.sent += 1;
    }
    return found.length === STEP;
  }

  /** Sends the consumer the events it has no message for, as new messages; false when none are left. */
  private async replayStep(task: TaskRecord, consumer: Consumer): Promise<boolean> {
    const found = await this.store.eventsSince(task.since, task.position, STEP);
    for (const { key, event } of found) {
      task.position = key;
      task.examined += 1;
      if (event.subject === MOCK_EVENT_SUBJECT || !consumer.pipeline.matchesType(event.eventType)) continue;
      if ((await this.store.consumersOfEvent(event.id)).has(consumer.id)) continue;
      task.sent += (await sendAgain(this.store, this.dispatcher, envelopeOf(event), [consumer])).length;
    }
    return found.length === STEP;
  }

  private async save(task: TaskRecord): Promise<void> {
    await this.store.write([{ type: 'put', sublevel: this.store.tasks, key: task.id, value: task }], true);
  }
}
