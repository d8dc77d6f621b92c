import { createHash, randomUUID } from 'node:crypto';
import type { JetStreamClient } from 'nats';
import { EVENT_TYPE_PATTERN, CONSUMER_ID_PATTERN } from '../../../config/schema.js';
import { HooksdError } from '../../common/errors.js';
import { subjectForEventType } from '../../common/subjects.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { replayEvent } from '../../dispatch/replay.js';
import type { PageQuery } from '../../store/lists.js';
import type { EventRecord } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import {
  eventSchema,
  eventWithMessagesSchema,
  groupPageOf,
  publishedSchema,
  replayedSchema,
} from '../answer-schemas.js';
import { presentEvent, presentMessage } from '../present.js';
import type { RouteTable } from '../route-table.js';
import { pageQuerySchema } from '../validation.js';
import { NotHere } from '../group.js';

const MAX_KEY_LENGTH = 256;

const publishBody = {
  type: 'object',
  additionalProperties: false,
  required: ['eventType', 'payload'],
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      pattern: '^[^\\x00-\\x1f]+$',
      description: 'The event id; left out, one is made (from the Idempotency-Key header when there is one).',
    },
    eventType: { type: 'string', pattern: EVENT_TYPE_PATTERN, description: 'A type of the event catalog.' },
    generatedDate: { type: 'string', format: 'date-time', description: 'When the event happened; left out, now.' },
    payload: { description: "The event's data: it must fit its type's schema, else 422 and nothing is published." },
  },
};
const replayBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    consumerIds: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      uniqueItems: true,
      items: { type: 'string', pattern: CONSUMER_ID_PATTERN },
      description: 'Only these consumers; left out, every consumer that takes the event now.',
    },
  },
};

interface PublishBody {
  id?: string;
  eventType: string;
  generatedDate?: string;
  payload: unknown;
}

/**
 * Whether an event of this type and payload would be ingested under the running catalog
 * (ingest.unknownTypes included): null, or why not with each schema error. Main builds it from
 * ingest's catalog, which the API does not import.
 */
export type CheckEvent = (
  eventType: string,
  payload: unknown,
) => { reason: string; errors: { path: string; message: string }[] } | null;

/** The same key always names the same event, so a retried publish cannot make a second one. */
function idForKey(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 3) | 8).toString(16);
  const parts = [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    variant + hex.slice(17, 20),
    hex.slice(20, 32),
  ];
  return parts.join('-');
}

async function foundEvent(store: Store, id: string): Promise<EventRecord> {
  const event = await store.getEvent(id);
  if (event === undefined) throw new NotHere('event', id);
  return event;
}

export function eventRoutes(
  routes: RouteTable,
  deps: {
    store: Store;
    consumers: ConsumerRegistry;
    dispatcher: Dispatcher;
    /** The stream's subjects (nats.subjects): events are published on the first one's prefix. */
    subjects: readonly string[];
    jetstream: () => JetStreamClient | undefined;
    checkEvent: CheckEvent;
    /** Replays an event this instance does not hold on the live instance that does; undefined when none does. */
  },
): void {
  const { store, consumers, dispatcher, subjects } = deps;

  routes.addShared<PageQuery & { eventType?: string }>(
    {
      method: 'get',
      path: '/v1/events',
      tag: 'events',
      summary: 'Events received, newest first',
      scope: 'read',
      query: {
        ...pageQuerySchema,
        eventType: { type: 'string', pattern: EVENT_TYPE_PATTERN, description: 'Only events of this type.' },
      },
      status: 200,
      response: groupPageOf(eventSchema),
    },
    { kind: 'list' },
    async ({ query }) => {
      const page = await store.lists.events(query);
      return { ...page, data: page.data.map(presentEvent) };
    },
  );

  routes.addShared(
    {
      method: 'get',
      path: '/v1/events/:id',
      tag: 'events',
      summary: 'An event with its messages (those of the instance that holds it)',
      scope: 'read',
      status: 200,
      response: eventWithMessagesSchema,
      errors: [404, 503],
    },
    { kind: 'find' },
    async ({ params }) => {
      const event = await foundEvent(store, params.id);
      const messages = await store.lists.messages({ eventId: event.id, limit: 250 });
      return { ...presentEvent(event), messages: messages.data.map(presentMessage) };
    },
  );

  routes.add<object, PublishBody>(
    {
      method: 'post',
      path: '/v1/events',
      tag: 'events',
      summary:
        'Publish an event to NATS; it takes the same ingest path as any other. An event that does not fit the ' +
        'catalog answers 422 with each schema error, and nothing is published. An Idempotency-Key header makes ' +
        'retries safe',
      scope: 'publish',
      body: publishBody,
      status: 202,
      response: publishedSchema,
      errors: [422, 503],
    },
    async ({ body }, ctx) => {
      // Checked here as ingest would check it: a publisher over HTTP hears why, instead of a dead letter.
      const refusal = deps.checkEvent(body.eventType, body.payload);
      if (refusal !== null) throw new HooksdError('HOOKSD_EVENT_REFUSED', refusal.reason, refusal);
      const js = deps.jetstream();
      if (js === undefined) throw new HooksdError('HOOKSD_NATS_UNAVAILABLE', 'not connected to NATS yet');
      const key = ctx.get('idempotency-key') || undefined;
      if (key !== undefined && key.length > MAX_KEY_LENGTH)
        throw new HooksdError(
          'HOOKSD_INVALID_REQUEST',
          `the Idempotency-Key header is longer than ${MAX_KEY_LENGTH} characters`,
        );
      const id = body.id ?? (key === undefined ? randomUUID() : idForKey(key));
      const envelope = {
        id,
        eventType: body.eventType,
        generatedDate: body.generatedDate ?? new Date().toISOString(),
        payload: body.payload,
      };
      const subject = subjectForEventType(body.eventType, subjects);
      const ack = await js.publish(subject, JSON.stringify(envelope), { msgID: key ?? id }).catch((error: Error) => {
        throw new HooksdError('HOOKSD_NATS_UNAVAILABLE', `publishing to NATS failed: ${error.message}`);
      });
      return { id, subject, stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
    },
  );

  routes.addShared<object, { consumerIds?: string[] }>(
    {
      method: 'post',
      path: '/v1/events/:id/replay',
      tag: 'events',
      summary: 'The event again, as new messages, to every consumer it matches now (or to `consumerIds`)',
      scope: 'admin',
      body: replayBody,
      status: 202,
      response: replayedSchema,
      errors: [404, 503],
    },
    { kind: 'find' },
    async ({ params, body }) => {
      // On a group, the route runs on each instance until the one holding the event (group.ts).
      const event = await store.getEvent(params.id);
      if (event === undefined) throw new NotHere('event', params.id);
      const replayed = await replayEvent(store, dispatcher, consumers, event, body.consumerIds);
      return { ...replayed, messages: replayed.messages.map(presentMessage) };
    },
  );
}
