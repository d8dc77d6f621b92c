import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { useApi } from '../parts/data.js';
import { fromLocalInput, localInput } from '../parts/format.js';
import { TaskProgress } from '../parts/task.js';
import { Action, Problem } from '../parts/ui.js';
import { href } from '../router.js';
import type { Consumer, EventType, Message, Page, Task } from '../types.js';

const path = (consumer: Consumer, action: string) => `/v1/consumers/${encodeURIComponent(consumer.id)}/${action}`;

/** The new secret, shown once: the console keeps it nowhere, and the API never shows it again. */
function RotateSecret({ consumer }: { consumer: Consumer }) {
  const [grace, setGrace] = useState('86400');
  return (
    <div class="card">
      <h3>Rotate the signing secret</h3>
      <label for="grace">The old secret keeps signing for</label>
      <select id="grace" value={grace} onChange={(e) => setGrace((e.target as HTMLSelectElement).value)}>
        <option value="0">no time: stop at once</option>
        <option value="3600">1 hour</option>
        <option value="86400">24 hours</option>
        <option value="604800">7 days</option>
      </select>
      <Action<{ secret: string; previousSecretsExpireAt: string | null }>
        label="Rotate secret"
        kind="danger"
        confirm="The consumer must be given the new secret."
        run={() => post(path(consumer, 'secret/rotate'), { graceSeconds: Number(grace) })}
        done={(rotated) => (
          <div class="secret">
            <p>
              <strong>The new secret, shown this once:</strong> copy it now and give it to the consumer.
            </p>
            <output class="code" aria-label="New secret">
              {rotated.secret}
            </output>
          </div>
        )}
      />
    </div>
  );
}

function TestEvent({ consumer }: { consumer: Consumer }) {
  const types = useApi<Page<EventType>>('/v1/event-types?limit=250');
  const withExample = (types.data?.data ?? []).filter((type) => type.example !== null && type.example !== undefined);
  const [chosen, setChosen] = useState('');
  const eventType = chosen || withExample[0]?.name || '';
  return (
    <div class="card">
      <h3>Send a test event</h3>
      <Problem error={types.error} />
      {types.data && withExample.length === 0 ? (
        <p class="muted">No type of the catalog has an example to send.</p>
      ) : (
        <>
          <label for="test-type">Event type (its catalog example is sent)</label>
          <select id="test-type" value={eventType} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
            {withExample.map((type) => (
              <option key={type.name} value={type.name}>
                {type.name}
              </option>
            ))}
          </select>
          <Action<Message>
            label="Send test event"
            run={() => post(path(consumer, 'test'), { eventType })}
            done={(message) => (
              <p>
                Sent as message <a href={href(`/messages/${encodeURIComponent(message.id)}`)}>{message.id}</a>.
              </p>
            )}
          />
        </>
      )}
    </div>
  );
}

/** Recover (resend failed messages) or replay missing (events never received), as a task watched live. */
function BulkTask({ consumer, kind }: { consumer: Consumer; kind: 'recover' | 'replay-missing' }) {
  const [since, setSince] = useState(() => localInput(new Date(Date.now() - 3_600_000).toISOString()));
  const recover = kind === 'recover';
  const id = `${kind}-since`;
  return (
    <div class="card">
      <h3>{recover ? 'Recover failed messages' : 'Replay missing events'}</h3>
      <p class="hint">
        {recover
          ? 'Resends every failed message made since this time.'
          : 'Sends, as new messages, the events since this time that it takes but never got.'}
      </p>
      <label for={id}>Since (your time zone)</label>
      <input
        id={id}
        type="datetime-local"
        value={since}
        onInput={(e) => setSince((e.target as HTMLInputElement).value)}
      />
      <Action<Task>
        label={recover ? 'Recover' : 'Replay missing'}
        run={() => {
          const iso = fromLocalInput(since);
          if (iso === undefined) return Promise.reject(new Error('Choose a time first.'));
          return post<Task>(path(consumer, kind), { since: iso });
        }}
        done={(task) => <TaskProgress task={task} />}
      />
    </div>
  );
}

/** What an admin token may do to a consumer; a read-only token sees none of it. */
export function ConsumerActions({ consumer, changed }: { consumer: Consumer; changed: () => void }) {
  return (
    <section aria-labelledby="actions-heading">
      <h2 id="actions-heading">Actions</h2>
      <div class="cards">
        <div class="card">
          <h3>{consumer.disabled ? 'Disabled' : 'Enabled'}</h3>
          {consumer.disabled ? (
            <Action label="Enable" kind="primary" run={() => post(path(consumer, 'enable')).then(changed)} />
          ) : (
            <Action
              label="Disable"
              kind="danger"
              confirm="Its due messages end as skipped."
              run={() => post(path(consumer, 'disable')).then(changed)}
            />
          )}
        </div>
        <RotateSecret consumer={consumer} />
        <TestEvent consumer={consumer} />
        <BulkTask consumer={consumer} kind="recover" />
        <BulkTask consumer={consumer} kind="replay-missing" />
      </div>
    </section>
  );
}
