import type { Logger } from 'pino';
import { CONSUMER_ID_PATTERN, EVENT_TYPE_PATTERN } from '../../../config/schema.js';
import { HooksdError } from '../../common/errors.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { MessageQuery, PageQuery } from '../../store/lists.js';
import { MESSAGE_STATUSES, type MessageRecord } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import { attemptSchema, groupPageOf, messageSchema, pageOf, resentSchema } from '../answer-schemas.js';
import { presentAttempt, presentMessage } from '../present.js';
import type { RouteTable } from '../route-table.js';
import { emptyBodySchema, pageQuerySchema } from '../validation.js';
import { NotHere } from '../group.js';

const cancelBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 500,
      description: 'Why, kept on the message as `cancelReason`; left out, "cancelled through the API".',
    },
  },
};

/** A message id names its owner: lookups and actions run there (group.ts). */
const OWNED = { kind: 'owner', idPrefix: 'msg_' } as const;

async function foundMessage(store: Store, id: string): Promise<MessageRecord> {
  const message = await store.getMessage(id);
  if (message === undefined) throw new NotHere('message', id);
  return message;
}

export function messageRoutes(
  routes: RouteTable,
  store: Store,
  consumers: ConsumerRegistry,
  dispatcher: Dispatcher,
  log: Logger,
): void {
  routes.addShared<MessageQuery>(
    {
      method: 'get',
      path: '/v1/messages',
      tag: 'messages',
      summary: 'Messages (one per event and consumer), newest first; the filters combine',
      scope: 'read',
      query: {
        ...pageQuerySchema,
        consumerId: { type: 'string', pattern: CONSUMER_ID_PATTERN, description: 'Only messages for this consumer.' },
        eventType: { type: 'string', pattern: EVENT_TYPE_PATTERN, description: 'Only messages of this event type.' },
        status: { enum: MESSAGE_STATUSES, description: 'Only messages in this status.' },
        eventId: {
          type: 'string',
          minLength: 1,
          maxLength: 256,
          description: 'Only the messages of this event (one per consumer it went to).',
        },
      },
      status: 200,
      response: groupPageOf(messageSchema),
    },
    { kind: 'list' },
    async ({ query }) => {
      const page = await store.lists.messages(query);
      return { ...page, data: page.data.map(presentMessage) };
    },
  );

  routes.addShared(
    {
      method: 'get',
      path: '/v1/messages/:id',
      tag: 'messages',
      summary: 'A message',
      scope: 'read',
      status: 200,
      response: messageSchema,
      errors: [404, 503],
    },
    OWNED,
    async ({ params }) => presentMessage(await foundMessage(store, params.id)),
  );

  routes.addShared<Pick<PageQuery, 'limit' | 'cursor'>>(
    {
      method: 'get',
      path: '/v1/messages/:id/attempts',
      tag: 'messages',
      summary: "A message's attempts, newest first, with request, response and timings",
      scope: 'read',
      query: { limit: pageQuerySchema.limit, cursor: pageQuerySchema.cursor },
      status: 200,
      response: pageOf(attemptSchema),
      errors: [404, 503],
    },
    OWNED,
    async ({ params, query }) => {
      const message = await foundMessage(store, params.id);
      const page = await store.lists.attempts(message.id, query);
      const envelope = (await store.getEvent(message.eventId))?.body;
      for (const attempt of page.data) attempt.request.body ??= envelope;
      return { data: page.data.map(presentAttempt), nextCursor: page.nextCursor };
    },
  );

  routes.addShared(
    {
      method: 'post',
      path: '/v1/messages/:id/resend',
      tag: 'messages',
      summary: 'One more manual attempt of the same message (same webhook-id)',
      scope: 'admin',
      body: emptyBodySchema,
      status: 202,
      response: resentSchema,
      errors: [404, 409, 503],
    },
    OWNED,
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

  routes.addShared<object, { reason?: string }>(
    {
      method: 'post',
      path: '/v1/messages/:id/cancel',
      tag: 'messages',
      summary:
        'Cancel the pending retries of a message (status sending or attempting, an attempt due); ' +
        'the reason is kept on it',
      scope: 'admin',
      body: cancelBody,
      status: 200,
      response: messageSchema,
      errors: [404, 409, 503],
    },
    OWNED,
    async ({ params, body }) => {
      const found = await foundMessage(store, params.id);
      // Held back from the lanes meanwhile: an attempt starting now would write over the cancellation.
      if (!dispatcher.claim(found))
        throw new HooksdError('HOOKSD_MESSAGE_BUSY', `message "${found.id}" is being attempted or queued right now`);
      try {
        // Read again under the claim: an attempt may have finished since.
        const message = await foundMessage(store, params.id);
        if (!isPending(message))
          throw new HooksdError(
            'HOOKSD_MESSAGE_NOT_PENDING',
            `message "${message.id}" is ${message.status} with no attempt due: there is nothing to cancel`,
          );
        const now = Date.now();
        const reason = body.reason ?? 'cancelled through the API';
        const cancelled: MessageRecord = {
          ...message,
          status: 'cancelled',
          nextAttemptAt: null,
          updatedAt: now,
          cancelledAt: now,
          cancelReason: reason,
        };
        await store.write(store.messageUpdateOps(message, cancelled), true);
        log.info(
          { messageId: message.id, consumerId: message.consumerId, eventId: message.eventId, reason },
          'message cancelled through the API: no more attempts',
        );
        return presentMessage(cancelled);
      } finally {
        dispatcher.release(found.id);
      }
    },
  );
}

/** Waiting for a scheduled attempt: the only messages a cancel applies to. */
function isPending(message: MessageRecord): boolean {
  return (message.status === 'sending' || message.status === 'attempting') && message.nextAttemptAt !== null;
}
