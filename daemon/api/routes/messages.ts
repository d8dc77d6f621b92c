import { HooksdError } from '../../errors.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../../records.js';
import type { ConsumerRegistry } from '../../consumers.js';
import type { Dispatcher } from '../../dispatcher.js';
import type { Store } from '../../store.js';
import { compileQuery, pageQuerySchema } from '../validation.js';
import { requireScope, type ApiRouter } from '../server.js';

interface MessagesQuery {
  limit: number;
  cursor?: string;
  since?: string;
  until?: string;
  consumerId?: string;
  eventType?: string;
  status?: MessageStatus;
}

const messagesQuery = compileQuery<MessagesQuery>({
  ...pageQuerySchema,
  consumerId: { type: 'string', minLength: 1 },
  eventType: { type: 'string', minLength: 1 },
  status: { enum: MESSAGE_STATUSES },
});
const attemptsQuery = compileQuery<{ limit: number; cursor?: string }>({ limit: pageQuerySchema.limit, cursor: pageQuerySchema.cursor });

export function messageRoutes(router: ApiRouter, store: Store, consumers: ConsumerRegistry, dispatcher: Dispatcher): void {
  router.get('/v1/messages', requireScope('read'), async (ctx) => {
    const query = messagesQuery(ctx.query);
    ctx.body = await store.listMessages(query);
  });

  router.get('/v1/messages/:id', requireScope('read'), async (ctx) => {
    const message = await store.getMessage(ctx.params.id);
    if (message === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no message with id "${ctx.params.id}"`);
    ctx.body = message;
  });

  router.get('/v1/messages/:id/attempts', requireScope('read'), async (ctx) => {
    const query = attemptsQuery(ctx.query);
    const message = await store.getMessage(ctx.params.id);
    if (message === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no message with id "${ctx.params.id}"`);
    const page = await store.listAttempts(ctx.params.id, query);
    const envelope = (await store.getEvent(message.eventId))?.body;
    for (const attempt of page.data) attempt.request.body ??= envelope;
    ctx.body = page;
  });

  router.post('/v1/messages/:id/resend', requireScope('admin'), async (ctx) => {
    const message = await store.getMessage(ctx.params.id);
    if (message === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no message with id "${ctx.params.id}"`);
    const consumer = consumers.get(message.consumerId);
    if (consumer === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `consumer "${message.consumerId}" of this message is no longer configured`);
    if (consumer.disabled) throw new HooksdError('HOOKSD_CONSUMER_DISABLED', `consumer "${consumer.id}" is disabled: enable it before resending`);
    if (!dispatcher.enqueue({ message, trigger: 'manual' })) throw new HooksdError('HOOKSD_MESSAGE_BUSY', `message "${message.id}" is already queued or being attempted`);
    ctx.status = 202;
    ctx.body = { messageId: message.id, status: 'queued' };
  });
}
