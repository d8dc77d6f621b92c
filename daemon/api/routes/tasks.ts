import { EVENT_TYPE_PATTERN, type EventTypeConfig } from '../../../config/schema.js';
import { HooksdError } from '../../common/errors.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { sendMockEvent } from '../../dispatch/messages.js';
import type { Store } from '../../store/store.js';
import type { TaskProgress } from '../../sweeper/task-progress.js';
import type { Tasks } from '../../sweeper/tasks.js';
import { messageSchema, taskSchema } from '../answer-schemas.js';
import { isoOrNull as iso, presentMessage } from '../present.js';
import type { RouteTable } from '../route-table.js';
import { found } from './consumers.js';

const since = { type: 'string', format: 'date-time', description: 'Start of the time range.' };
const until = { type: 'string', format: 'date-time', description: 'End of the time range; left out, now.' };
const recoverBody = {
  type: 'object',
  additionalProperties: false,
  required: ['since'],
  properties: { since, until },
};
const replayMissingBody = {
  type: 'object',
  additionalProperties: false,
  required: ['since'],
  properties: { since },
};
const testBody = {
  type: 'object',
  additionalProperties: false,
  required: ['eventType'],
  properties: {
    eventType: { type: 'string', pattern: EVENT_TYPE_PATTERN, description: 'A catalog type with an example to send.' },
  },
};

function presentTask(task: TaskProgress) {
  return {
    ...task,
    since: iso(task.since),
    until: iso(task.until),
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
    finishedAt: iso(task.finishedAt),
    parts: task.parts.map((part) => ({
      ...part,
      startedAt: iso(part.startedAt),
      updatedAt: iso(part.updatedAt),
      finishedAt: iso(part.finishedAt),
    })),
  };
}

function timeRange(since: string, until: string | undefined): { since: number; until: number | null } {
  const range = { since: Date.parse(since), until: until === undefined ? null : Date.parse(until) };
  if (range.until !== null && range.until < range.since)
    throw new HooksdError('HOOKSD_INVALID_REQUEST', 'body: "until" is before "since"');
  return range;
}

/** Bulk tasks (recover, replay-missing) and mock events: work done for one consumer. */
export function taskRoutes(
  routes: RouteTable,
  deps: {
    store: Store;
    consumers: ConsumerRegistry;
    dispatcher: Dispatcher;
    tasks: Tasks;
    eventType: (name: string) => EventTypeConfig | undefined;
  },
): void {
  const { consumers, tasks } = deps;

  routes.add<object, { since: string; until?: string }>(
    {
      method: 'post',
      path: '/v1/consumers/:id/recover',
      tag: 'tasks',
      summary: "Resend the consumer's failed messages created between since and until (default now), as a task",
      scope: 'admin',
      body: recoverBody,
      status: 202,
      response: taskSchema,
      errors: [404],
    },
    async ({ params, body }) => {
      found(consumers, params.id);
      const { since, until } = timeRange(body.since, body.until);
      return presentTask(await tasks.create('recover', params.id, since, until));
    },
  );

  routes.add<object, { since: string }>(
    {
      method: 'post',
      path: '/v1/consumers/:id/replay-missing',
      tag: 'tasks',
      summary: 'Send the consumer, as new messages, the events since `since` it matches but never received, as a task',
      scope: 'admin',
      body: replayMissingBody,
      status: 202,
      response: taskSchema,
      errors: [404],
    },
    async ({ params, body }) => {
      found(consumers, params.id);
      return presentTask(await tasks.create('replay-missing', params.id, timeRange(body.since, undefined).since, null));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/tasks/:id',
      tag: 'tasks',
      summary: 'Progress of a bulk task',
      scope: 'read',
      status: 200,
      response: taskSchema,
      errors: [404],
    },
    async ({ params }) => presentTask(await tasks.get(params.id)),
  );

  routes.add<object, { eventType: string }>(
    {
      method: 'post',
      path: '/v1/consumers/:id/test',
      tag: 'consumers',
      summary:
        "Send the consumer a mock event: the event type's catalog example, signed, recorded and retried like any " +
        'message',
      scope: 'admin',
      body: testBody,
      status: 202,
      response: messageSchema,
      errors: [404, 409],
    },
    async ({ params, body }) => {
      const consumer = found(consumers, params.id);
      if (consumer.disabled)
        throw new HooksdError(
          'HOOKSD_CONSUMER_DISABLED',
          `consumer "${consumer.id}" is disabled: enable it before testing`,
        );
      const type = deps.eventType(body.eventType);
      if (type === undefined)
        throw new HooksdError(
          'HOOKSD_INVALID_REQUEST',
          `body.eventType: "${body.eventType}" is not in the event catalog`,
        );
      if (type.example === undefined)
        throw new HooksdError(
          'HOOKSD_INVALID_REQUEST',
          `body.eventType: "${body.eventType}" has no example in the catalog to send`,
        );
      return presentMessage(await sendMockEvent(deps.store, deps.dispatcher, consumer, type.name, type.example));
    },
  );
}
