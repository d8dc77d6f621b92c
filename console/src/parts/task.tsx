import { useCallback, useState } from 'preact/hooks';
import { get } from '../api.js';
import type { Task } from '../types.js';
import { useEvery } from './data.js';
import { count, Time } from './format.js';
import { Problem } from './ui.js';

/** A bulk task's progress, read again every second until it is done or failed. */
export function TaskProgress({ task: started }: { task: Task }) {
  const [task, setTask] = useState(started);
  const [error, setError] = useState<Error>();
  const refresh = useCallback(() => {
    get<Task>(`/v1/tasks/${encodeURIComponent(started.id)}`).then(setTask, setError);
  }, [started.id]);
  useEvery(1000, task.status === 'running', refresh);
  return (
    <div class={`task task-${task.status}`} role="status" aria-live="polite">
      <strong>
        {task.kind} {task.status}
      </strong>{' '}
      <span class="task-counts">
        {count(task.examined)} examined, {count(task.sent)} sent
      </span>
      {task.finishedAt && (
        <>
          {' '}
          · finished <Time iso={task.finishedAt} />
        </>
      )}
      {task.error && <p class="problem">{task.error}</p>}
      <div class="sub">task {task.id}</div>
      <Problem error={error} />
    </div>
  );
}
