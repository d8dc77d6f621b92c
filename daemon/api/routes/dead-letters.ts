import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { HooksdError } from '../../common/errors.js';
import { eventTypeFromSubject } from '../../common/subjects.js';
import type { ConsumerRegistry } from '../../dispatch/consumers.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { readPublished, type Envelope, type Published } from '../../dispatch/envelope.js';
import { ingestEvent } from '../../dispatch/messages.js';
import type { PageQuery } from '../../store/lists.js';
import type { DeadLetterRecord, MessageRecord } from '../../store/records.js';
import type { Store } from '../../store/store.js';
import { deadLetterSchema, groupPageOf, redrivenSchema } from '../answer-schemas.js';
import { presentDeadLetter, presentMessage } from '../present.js';
import type { RouteTable } from '../route-table.js';
import { emptyBodySchema, pageQuerySchema } from '../validation.js';
import type { CheckEvent } from './events.js';
import { NotHere } from '../group.js';

/**
 * The dead letter's bytes as they were published. An envelope that had no id of its own got
 * one at ingest (kept as `eventId`); one that could not be read then gets one from the dead
 * letter's id, the same at every try.
 */
function publishedOf(record: DeadLetterRecord): Published {
  return {
    data: Buffer.from(record.data, record.encoding === 'base64' ? 'base64' : 'utf8'),
    subject: record.subject,
    msgId: Object.hasOwn(record.headers, 'Nats-Msg-Id') ? record.headers['Nats-Msg-Id'][0] || undefined : undefined,
    fallbackId: () =>
      record.eventId ??
      'evt_' + createHash('sha256').update(`dead-letter:${record.id}`).digest('base64url').slice(0, 22),
    publishedAt: record.receivedAt,
  };
}

export function deadLetterRoutes(
  routes: RouteTable,
  deps: {
    store: Store;
    consumers: ConsumerRegistry;
    dispatcher: Dispatcher;
    /** The stream's subjects (nats.subjects): an envelope without `eventType` takes it from its subject. */
    subjects: readonly string[];
    checkEvent: CheckEvent;
    log: Logger;
  },
): void {
  const { store, consumers, dispatcher, log } = deps;
  /** Dead letters and event ids being redriven now: a second redrive beside one would make every message twice. */
  const busy = new Set<string>();

  routes.addShared<PageQuery>(
    {
      method: 'get',
      path: '/v1/dead-letters',
      tag: 'events',
      summary: 'Events refused at ingest, with reasons, newest first',
      scope: 'read',
      query: pageQuerySchema,
      status: 200,
      response: groupPageOf(deadLetterSchema),
    },
    { kind: 'list' },
    async ({ query }) => {
      const page = await store.lists.deadLetters(query);
      return { ...page, data: page.data.map(presentDeadLetter) };
    },
  );

  /** The dead letter's event as ingest would take it now, or a 422 saying why it still would not. */
  const readable = (record: DeadLetterRecord): Envelope => {
    let envelope: Envelope;
    try {
      envelope = readPublished(publishedOf(record), (subject) => eventTypeFromSubject(subject, deps.subjects));
    } catch (error) {
      if (!(error instanceof HooksdError) || error.code !== 'HOOKSD_EVENT_INVALID') throw error;
      throw new HooksdError('HOOKSD_EVENT_REFUSED', `still refused: ${error.message}`, {
        reason: error.message,
        errors: [],
      });
    }
    const refusal = deps.checkEvent(envelope.eventType, envelope.view.payload);
    if (refusal !== null) throw new HooksdError('HOOKSD_EVENT_REFUSED', `still refused: ${refusal.reason}`, refusal);
    return envelope;
  };

  routes.addShared(
    {
      method: 'post',
      path: '/v1/dead-letters/:id/redrive',
      tag: 'events',
      summary:
        'Ingest a dead letter after all, once it can be read (its type joined the catalog, its schema changed): ' +
        'the event with its messages, as ingest makes them; the dead letter records when and as which event. ' +
        'Still refused, 422 with the reason',
      scope: 'admin',
      body: emptyBodySchema,
      status: 202,
      response: redrivenSchema,
      errors: [404, 409, 422, 503],
    },
    { kind: 'owner', idPrefix: 'dlq_' },
    async ({ params }) => {
      const record = await store.getDeadLetter(params.id);
      if (record === undefined) throw new NotHere('dead letter', params.id);
      const redrivenAlready = (eventId: string, when: string) =>
        new HooksdError('HOOKSD_DEAD_LETTER_REDRIVEN', `dead letter "${record.id}" ${when} as event "${eventId}"`, {
          eventId,
        });
      if (record.redrivenEventId !== undefined) throw redrivenAlready(record.redrivenEventId, 'was redriven already');
      const envelope = readable(record);
      const keys = [`dlq:${record.id}`, `event:${envelope.id}`];
      if (keys.some((key) => busy.has(key))) throw redrivenAlready(envelope.id, 'is being redriven right now');
      keys.forEach((key) => busy.add(key));
      try {
        // Read again: a redrive that just ended has written it.
        const current = (await store.getDeadLetter(record.id)) ?? record;
        if (current.redrivenEventId !== undefined)
          throw redrivenAlready(current.redrivenEventId, 'was redriven already');
        const now = Date.now();
        const redriven: DeadLetterRecord = { ...current, redrivenAt: now, redrivenEventId: envelope.id };
        // An event of this id that came in since (published again) is not made twice, as at ingest.
        const duplicate = (await store.existingEventIds([envelope.id])).has(envelope.id);
        let messages: MessageRecord[] = [];
        if (duplicate) await store.write(store.deadLetterOps(redriven), true);
        else
          messages = await ingestEvent(
            store,
            dispatcher,
            consumers.forEventType(envelope.eventType),
            { envelope, subject: current.subject, receivedAt: now },
            store.deadLetterOps(redriven),
          );
        log.info(
          { deadLetterId: current.id, eventId: envelope.id, eventType: envelope.eventType, messages: messages.length },
          duplicate ? 'dead letter redriven: its event was stored already' : 'dead letter redriven: event ingested',
        );
        return {
          deadLetter: presentDeadLetter(redriven),
          eventId: envelope.id,
          duplicate,
          messages: messages.map(presentMessage),
        };
      } finally {
        keys.forEach((key) => busy.delete(key));
      }
    },
  );
}
