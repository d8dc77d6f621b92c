import type { Logger } from 'pino';
import { HooksdError } from '../common/errors.js';
import { MOCK_EVENT_SUBJECT } from '../common/subjects.js';
import type { ConsumerRegistry } from '../dispatch/consumers.js';
import type { Consumer } from '../dispatch/consumer.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { sendAgain, wouldReceive } from '../dispatch/messages.js';
import { sortableId } from '../store/ids.js';
import type { EventRecord, MessageRecord, TaskKind, TaskPartRecord, TaskRecord } from '../store/records.js';
import type { Step } from '../store/scans.js';
import type { Store } from '../store/store.js';
import { progressOf, type TaskProgress } from './task-progress.js';

const STEP = 100;
const WAIT_MS = 25;
const SAVE_RETRY_MS = 1000;
/** A part saves its progress at most this often (and when it ends or stops): the bucket's write rate. */
const SAVE_EVERY_MS = 1000;

/** A record a task looks at: one of the consumer's messages (recover) or an event (replay-missing). */
type Item = ({ key: string; message: MessageRecord } | { key: string; event: EventRecord }) & { wanted?: boolean };

/** This instance's part of a task in this process, beyond what it saves. */
interface Run {
  task: TaskRecord;
  part: TaskPartRecord;
  /** Records read past `part.position`, not dealt with yet. */
  ahead: Item[];
  /** The last read came back short: nothing is left past `ahead`. */
  exhausted: boolean;
  /** Messages handed over whose attempt has not finished yet. */
  inFlight: Set<string>;
  /** recover: messages handed over before that are to be handed over again if still failed. */
  again: string[];
}

/**
 * Runs `recover` and `replay-missing` in the background, on every instance of the group: a
 * task is kept in the control bucket, and each instance runs its part of it over the records
 * of its own store (the messages and events it owns), saving its progress under its own key
 * (`parts.<taskId>/<instance>`, at most once a second). The task is done when every part is.
 * The instances alive when the task was made are expected to run a part; an instance that
 * joins while the task runs runs a part too (its store may hold records in range, handed over
 * or from before a restart); one that comes after the task ended does not.
 *
 * A message is handed to the consumer's lane only while the lane holds fewer than this
 * instance's share of the consumer's concurrency, and the lane keeps its share of the
 * consumer's rateLimit, so a task is paced by the consumer and never crowds out new deliveries.
 * A part is done when it has looked at every record of its range and every attempt it started
 * has finished.
 *
 * Progress is saved as it goes: the index key of the last record looked at, the counts, and
 * the messages handed over whose attempt has not finished. A part still running at shutdown
 * carries on after a restart: recover hands those messages over again if they are still failed
 * (attempts in flight at SIGTERM finish and are recorded first, so a message is sent twice
 * only when hooksd is killed or its shutdown timeout cuts an attempt short); replay-missing
 * needs nothing of the kind, since the messages it creates are durable and stay due. After a
 * crash the records looked at since the last save are looked at again; a message delivered
 * since is not resent and an event that has a message now is not sent again.
 */
export class Tasks {
  private readonly running = new Map<string, Promise<void>>();
  /** The parts running here, as they stand now (saved at most once a second). */
  private readonly parts = new Map<string, TaskPartRecord>();
  private started = false;
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly consumers: ConsumerRegistry,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    /** instance.id: the name of this instance's parts. */
    private readonly instanceId: string,
    /** The ids of the live instances of the group, this one included. */
    private readonly live: () => string[] = () => [instanceId],
  ) {}

  /** Resumes this instance's unfinished parts, starts its part of running tasks, and follows new tasks. */
  async start(): Promise<void> {
    this.started = true;
    this.store.control.listen((kind, id) => {
      if (kind === 'tasks') this.consider(id);
    });
    for (const task of this.store.control.tasks()) this.consider(task.id);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running.values());
  }

  async create(kind: TaskKind, consumerId: string, since: number, until: number | null): Promise<TaskProgress> {
    const now = Date.now();
    const task: TaskRecord = {
      id: sortableId('task_', now),
      kind,
      consumerId,
      since,
      until,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      position: null,
      pending: [],
      examined: 0,
      sent: 0,
      error: null,
      instance: this.instanceId,
      instances: [...new Set([this.instanceId, ...this.live()])].sort(),
    };
    await this.store.control.putTask(task);
    // The watch brought it back and started this instance's part; this covers a watch that did not.
    this.consider(task.id);
    return this.get(task.id);
  }

  /** The task with its parts' progress summed: this instance's part as it stands, the others' as last saved. */
  async get(id: string): Promise<TaskProgress> {
    const task = this.store.control.task(id);
    if (task === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no task with id "${id}"`);
    const here = this.parts.get(id);
    const saved = this.store.control.taskParts(id).filter((part) => part.instance !== here?.instance);
    return progressOf(task, here === undefined ? saved : [...saved, here], new Set(this.live()));
  }

  /** Runs this instance's part of the task when it is due one and does not run it yet. */
  private consider(taskId: string): void {
    if (!this.started || this.stopping || this.running.has(taskId)) return;
    const task = this.store.control.task(taskId);
    if (task === undefined) return;
    // A task made before tasks ran on every instance runs on the instance that made it only.
    if (task.instances === undefined && task.instance !== this.instanceId) return;
    const parts = this.store.control.taskParts(taskId);
    const mine = parts.find((part) => part.instance === this.instanceId);
    if (mine !== undefined) {
      if (mine.status !== 'running') return;
      this.log.info({ taskId, kind: task.kind, examined: mine.examined, sent: mine.sent }, 'resuming task');
      this.run(task, { ...mine, pending: [...mine.pending] });
      return;
    }
    if (progressOf(task, parts, new Set()).status !== 'running') return;
    const now = Date.now();
    const old = task.instances === undefined;
    this.run(task, {
      taskId,
      instance: this.instanceId,
      status: 'running',
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
      // An old task carries on from its record.
      position: old ? task.position : null,
      pending: old ? [...task.pending] : [],
      examined: old ? task.examined : 0,
      sent: old ? task.sent : 0,
      error: null,
    });
  }

  private run(task: TaskRecord, part: TaskPartRecord): void {
    const work = this.steps(task, part)
      .catch(async (error: Error) => {
        this.log.error({ err: error, taskId: task.id }, 'task failed');
        const now = Date.now();
        Object.assign(part, { status: 'failed', error: error.message, updatedAt: now, finishedAt: now });
        await this.save(part).catch((saving) =>
          this.log.error({ err: saving, taskId: task.id }, 'the failed task could not be saved; it resumes at restart'),
        );
      })
      .finally(() => {
        this.running.delete(task.id);
        this.parts.delete(task.id);
      });
    this.parts.set(task.id, part);
    this.running.set(task.id, work);
  }

  private async steps(task: TaskRecord, part: TaskPartRecord): Promise<void> {
    const run: Run = {
      task,
      part,
      ahead: [],
      exhausted: false,
      inFlight: new Set(),
      again: task.kind === 'recover' ? [...part.pending] : [],
    };
    await this.save(part);
    let savedAt = Date.now();
    let unsaved = false;
    while (!this.stopping) {
      if (!this.store.health.healthy) await this.store.health.whenHealthy();
      const consumer = this.consumers.get(task.consumerId);
      if (consumer === undefined) {
        throw new HooksdError('HOOKSD_NOT_FOUND', `consumer "${task.consumerId}" no longer exists`);
      }
      const settled = this.settle(run, consumer);
      const moved = await this.handOver(run, consumer);
      const finished = run.exhausted && run.ahead.length === 0 && run.again.length === 0 && run.inFlight.size === 0;
      if (settled || moved || finished) {
        part.pending = [...run.again, ...run.inFlight];
        part.updatedAt = Date.now();
        unsaved = true;
      }
      if (finished) {
        part.status = 'done';
        part.finishedAt = part.updatedAt;
      }
      if (finished || (unsaved && Date.now() - savedAt >= SAVE_EVERY_MS)) {
        await this.save(part);
        savedAt = Date.now();
        unsaved = false;
      }
      if (finished) {
        this.log.info({ taskId: task.id, kind: task.kind, examined: part.examined, sent: part.sent }, 'task done');
        return;
      }
      if (!moved) await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    }
    if (unsaved) await this.save(part);
  }

  /**
   * Forgets the messages whose attempt has finished; true when there were any. A manual
   * attempt is not sent to a disabled consumer: recover hands such a message over again once
   * the consumer is enabled (if it is still failed then).
   */
  private settle(run: Run, consumer: Consumer): boolean {
    let settled = false;
    for (const id of run.inFlight) {
      if (this.dispatcher.has(id)) continue;
      run.inFlight.delete(id);
      if (consumer.disabled && run.task.kind === 'recover') run.again.push(id);
      settled = true;
    }
    return settled;
  }

  /** Hands over what the consumer has room for and passes the records needing nothing; true when the task moved on. */
  private async handOver(run: Run, consumer: Consumer): Promise<boolean> {
    let moved = false;
    while (run.again.length > 0) {
      if (!this.mayHandOver(consumer)) return moved;
      const message = await this.store.getMessage(run.again.shift() as string);
      moved = true;
      if (message?.status === 'failure' && this.dispatcher.enqueue({ message, trigger: 'manual' }))
        this.handed(run, [message.id]);
    }
    for (let looked = 0; looked < STEP; looked++) {
      if (run.ahead.length === 0) {
        if (run.exhausted) break;
        await this.readAhead(run);
        if (run.ahead.length === 0) break;
      }
      const item = run.ahead[0] as Item;
      item.wanted ??= await this.wanted(consumer, item);
      if (item.wanted && !this.mayHandOver(consumer)) break;
      run.ahead.shift();
      run.part.position = item.key;
      run.part.examined += 1;
      moved = true;
      if (item.wanted) await this.send(run, consumer, item);
    }
    return moved;
  }

  /** The next records of the task's range, after the last one looked at. */
  private async readAhead(run: Run): Promise<void> {
    const { task } = run;
    for (let after = run.part.position; ;) {
      const step: Step<Item> =
        task.kind === 'recover'
          ? await this.store.scans.consumerMessagesBetween(
              task.consumerId,
              { since: task.since, until: task.until ?? task.createdAt },
              after,
              STEP,
            )
          : await this.store.scans.eventsSince(task.since, after, STEP);
      run.ahead = step.items;
      run.exhausted = !step.more;
      // A step whose records were all purged under it: read on past it.
      if (run.ahead.length > 0 || run.exhausted) return;
      after = step.lastKey;
    }
  }

  /** recover: a failed message; replay-missing: an event the consumer takes but has no message for. */
  private async wanted(consumer: Consumer, item: Item): Promise<boolean> {
    if ('message' in item) return item.message.status === 'failure';
    const { event } = item;
    if (event.subject === MOCK_EVENT_SUBJECT || !consumer.pipeline.matchesType(event.eventType)) return false;
    if ((await this.store.scans.consumersOfEvent(event.id)).has(consumer.id)) return false;
    return wouldReceive(consumer, event);
  }

  /**
   * recover: one manual attempt of the message (same webhook-id), if it is still failed; replay-missing: a new message
   * of the event.
   */
  private async send(run: Run, consumer: Consumer, item: Item): Promise<void> {
    if ('message' in item) {
      const message = await this.store.getMessage(item.message.id);
      if (message?.status !== 'failure' || !this.dispatcher.enqueue({ message, trigger: 'manual' })) return;
      run.part.sent += 1;
      this.handed(run, [message.id]);
      return;
    }
    const created = await sendAgain(this.store, this.dispatcher, item.event, [consumer]);
    run.part.sent += created.length;
    this.handed(
      run,
      created.map((m) => m.id),
    );
  }

  /** May a message be handed to the consumer's lane now? Never while it is disabled. */
  private mayHandOver(consumer: Consumer): boolean {
    const share = this.dispatcher.shares.of(consumer);
    return !consumer.disabled && this.dispatcher.heldCount(consumer.id) < share.concurrency;
  }

  private handed(run: Run, ids: string[]): void {
    for (const id of ids) if (this.dispatcher.has(id)) run.inFlight.add(id);
  }

  /** Saves the part's progress in the control bucket; while NATS cannot take it, tries again every second. */
  private async save(part: TaskPartRecord): Promise<void> {
    for (;;) {
      try {
        await this.store.control.putTaskPart({ ...part, pending: [...part.pending] });
        return;
      } catch (error) {
        const away = error instanceof HooksdError && error.code === 'HOOKSD_NATS_UNAVAILABLE';
        if (!away || this.stopping) throw error;
        await new Promise((resolve) => setTimeout(resolve, SAVE_RETRY_MS));
      }
    }
  }
}
