import { CONSUMER_ID_PATTERN, EVENT_TYPE_PATTERN } from '../../../config/schema.js';
import { HooksdError } from '../../common/errors.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { MessageQuery, PageQuery } from '../../store/lists.js';
import { MESSAGE_STATUSES, type MessageRecord } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import type { RouteTable } from '../route-table.js';
import { emptyBodySchema, pageQuerySchema } from '../validation.js';

async function foundMessage(store: Store, id: string): Promise<MessageRecord> {
  const message = await store.getMessage(id);
  if (message === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no message with id "${id}"`);
  return message;
}

export function messageRoutes(
  routes: RouteTable,
  store: Store,
  consumers: ConsumerRegistry,
  dispatcher: Dispatcher,
): void {
  routes.add<MessageQuery>(
    {
      method: 'get',
      path: '/v1/messages',
      tag: 'messages',
      summary: 'Messages (one per event and consumer), newest first',
      scope: 'read',
      query: {
        ...pageQuerySchema,
        consumerId: { type: 'string', pattern: CONSUMER_ID_PATTERN, description: 'Only messages for this consumer.' },
        eventType: { type: 'string', pattern: EVENT_TYPE_PATTERN, description: 'Only messages of this event type.' },
        status: { enum: MESSAGE_STATUSES, description: 'Only messages in this status.' },
      },
      status: 200,
    },
    ({ query }) => store.lists.messages(query),
  );

  routes.add(
    {
      method: 'get',
      path: '/v1/messages/:id',
      tag: 'messages',
      summary: 'A message',
      scope: 'read',
      status: 200,
      errors: [404],
    },
    ({ params }) => foundMessage(store, params.id),
  );

  routes.add<Pick<PageQuery, 'limit' | 'cursor'>>(
    {
      method: 'get',
      path: '/v1/messages/:id/attempts',
      tag: 'messages',
      summary: "A message's attempts, newest first, with request, response and timings",
      scope: 'read',
      query: { limit: pageQuerySchema.limit, cursor: pageQuerySchema.cursor },
      status: 200,
      errors: [404],
    },
    async ({ params, query }) => {
      const message = await foundMessage(store, params.id);
      const page = await store.lists.attempts(message.id, query);
      const envelope = (await store.getEvent(message.eventId))?.body;
      for (const attempt of page.data) attempt.request.body ??= envelope;
      return page;
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/v1/messages/:id/resend',
      tag: 'messages',
      summary: 'One more manual attempt of the same message (same webhook-id)',
      scope: 'admin',
      body: emptyBodySchema,
      status: 202,
      errors: [404, 409],
    },
    async ({ params }) => {
      const message = await foundMessage(store, params.id);
      const consumer = consumers.get(message.consumerId);
      if (consumer === undefined)
        throw new HooksdError('HOOKSD_NOT_FOUND', `consumer "${message.consumerId}" of this message no longer exists`);
      if (consumer.disabled)
        throw new HooksdError(
          'HOOKSD_CONSUMER_DISABLED',
          `consumer "${consumer.id}" is disabled: enable it before resending`,
        );
      if (!dispatcher.enqueue({ message, trigger: 'manual' }))
        throw new HooksdError('HOOKSD_MESSAGE_BUSY', `message "${message.id}" is already queued or being attempted`);
      return { messageId: message.id, status: 'queued' };
    },
  );
}
