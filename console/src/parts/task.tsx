import { useCallback, useState } from 'preact/hooks';
import { get } from '../api.js';
import type { Task, TaskPart } from '../types.js';
import { useEvery } from './data.js';
import { count, Time } from './format.js';
import { Problem } from './ui.js';

function PartCounts({ part }: { part: TaskPart }) {
  return (
    <>
      {count(part.examined)} examined, {count(part.sent)} sent
    </>
  );
}

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
      {task.parts && task.parts.length > 0 && (
        <ul class="task-parts" aria-label="By instance">
          {task.parts.map((part) => (
            <li key={part.instance} class={`task-part task-part-${part.status}`}>
              <span class="task-instance">{part.instance}</span> {part.status}
              {!part.live && part.status !== 'done' && <span class="muted"> (not alive)</span>}:{' '}
              <PartCounts part={part} />
            </li>
          ))}
        </ul>
      )}
      {task.error && <p class="problem">{task.error}</p>}
      <div class="sub">task {task.id}</div>
      <Problem error={error} />
    </div>
  );
}
