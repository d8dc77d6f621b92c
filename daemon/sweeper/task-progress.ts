import type { TaskPartRecord, TaskRecord } from '../store/records.js';

/** `waiting`: an instance expected to run a part has not saved one yet (it is starting, or gone). */
export type PartStatus = 'waiting' | TaskPartRecord['status'];

/** One instance's part of a task, as the API shows it. */
export interface PartProgress {
  instance: string;
  status: PartStatus;
  /** Whether the instance is alive now. */
  live: boolean;
  startedAt: number | null;
  updatedAt: number | null;
  finishedAt: number | null;
  examined: number;
  sent: number;
  error: string | null;
}

/** A task with the progress of its parts summed. */
export interface TaskProgress {
  id: string;
  kind: TaskRecord['kind'];
  consumerId: string;
  since: number;
  until: number | null;
  status: TaskRecord['status'];
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  examined: number;
  sent: number;
  error: string | null;
  parts: PartProgress[];
}

/**
 * The instances whose part a task waits for: those alive when it was made. A task made before
 * tasks ran on every instance waits for the one that made it only.
 */
export const expectedInstances = (task: TaskRecord): string[] => task.instances ?? [task.instance ?? ''];

/** A part from its record; an expected instance with none saved is waiting (an old task's is the task's record). */
function partOf(task: TaskRecord, instance: string, saved: TaskPartRecord | undefined): Omit<PartProgress, 'live'> {
  if (saved !== undefined) {
    const { startedAt, updatedAt, finishedAt, examined, sent, error, status } = saved;
    return { instance, status, startedAt, updatedAt, finishedAt, examined, sent, error };
  }
  if (task.instances === undefined) {
    const { createdAt: startedAt, updatedAt, finishedAt, examined, sent, error, status } = task;
    return { instance, status, startedAt, updatedAt, finishedAt, examined, sent, error };
  }
  return {
    instance,
    status: 'waiting',
    startedAt: null,
    updatedAt: null,
    finishedAt: null,
    examined: 0,
    sent: 0,
    error: null,
  };
}

/**
 * Sums a task's parts: it runs while any part runs or is waited for, and then is `failed` when
 * a part failed, `done` otherwise. Its counts are the sums of its parts'.
 */
export function progressOf(task: TaskRecord, saved: TaskPartRecord[], live: ReadonlySet<string>): TaskProgress {
  const byInstance = new Map(saved.map((part) => [part.instance, part]));
  const names = [...new Set([...expectedInstances(task), ...byInstance.keys()])].sort();
  const parts = names.map((name) => ({ ...partOf(task, name, byInstance.get(name)), live: live.has(name) }));
  const running = parts.some((part) => part.status === 'running' || part.status === 'waiting');
  const failed = parts.filter((part) => part.status === 'failed');
  const latest = (times: (number | null)[]) => Math.max(...times.map((time) => time ?? 0));
  return {
    id: task.id,
    kind: task.kind,
    consumerId: task.consumerId,
    since: task.since,
    until: task.until,
    status: running ? 'running' : failed.length > 0 ? 'failed' : 'done',
    createdAt: task.createdAt,
    updatedAt: latest([task.updatedAt, ...parts.map((part) => part.updatedAt)]),
    finishedAt: running ? null : latest(parts.map((part) => part.finishedAt)),
    examined: parts.reduce((sum, part) => sum + part.examined, 0),
    sent: parts.reduce((sum, part) => sum + part.sent, 0),
    error: failed.length === 0 ? null : failed.map((part) => `${part.instance}: ${part.error}`).join('; '),
    parts,
  };
}
