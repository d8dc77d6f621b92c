import { HooksdError } from '../../errors.js';
import type { EventRecord } from '../../records.js';
import type { Store } from '../../store.js';
import { compileQuery, pageQuerySchema } from '../validation.js';
import { requireScope, type ApiRouter } from '../server.js';

interface EventsQuery {
  limit: number;
  cursor?: string;
  since?: string;
  until?: string;
  eventType?: string;
}

const eventsQuery = compileQuery<EventsQuery>({ ...pageQuerySchema, eventType: { type: 'string', minLength: 1 } });

/** An event as the API shows it: the delivered envelope parsed, plus when hooksd received it. */
function present(event: EventRecord) {
  return {
    id: event.id,
    eventType: event.eventType,
    generatedDate: event.generatedDate,
    receivedAt: new Date(event.receivedAt).toISOString(),
    subject: event.subject,
    envelope: JSON.parse(event.body),
  };
}

export function eventRoutes(router: ApiRouter, store: Store): void {
  router.get('/v1/events', requireScope('read'), async (ctx) => {
    const query = eventsQuery(ctx.query);
    const page = await store.listEvents(query);
    ctx.body = { data: page.data.map(present), nextCursor: page.nextCursor };
  });

  router.get('/v1/events/:id', requireScope('read'), async (ctx) => {
    const event = await store.getEvent(ctx.params.id);
    if (event === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no event with id "${ctx.params.id}"`);
    const messages = await store.listMessages({ eventId: event.id, limit: 250 });
    ctx.body = { ...present(event), messages: messages.data };
  });
}
