import { HooksdError } from '../common/errors.js';
import type { EventRecord, MessageRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { ConsumerRegistry } from './consumers.js';
import type { Consumer } from './consumer.js';
import type { Dispatcher } from './dispatcher.js';
import { sendAgain } from './messages.js';

/** What a replay made: the new messages, and the consumers asked for that got none, with why. */
export interface Replayed {
  eventId: string;
  messages: MessageRecord[];
  passedOver: { consumerId: string; reason: string }[];
}

/** The consumers named, each known; a name no consumer has is an error naming it. */
export function chosenConsumers(consumers: ConsumerRegistry, ids: readonly string[]): Consumer[] {
  return ids.map((id) => {
    const consumer = consumers.get(id);
    if (consumer === undefined) throw new HooksdError('HOOKSD_NOT_FOUND', `no consumer with id "${id}"`);
    return consumer;
  });
}

/**
 * The event again, as new messages, to every enabled consumer it matches now, or to those of
 * `consumerIds`: made by the instance whose store holds the event, as ingest made the first ones.
 */
export async function replayEvent(
  store: Store,
  dispatcher: Dispatcher,
  consumers: ConsumerRegistry,
  event: EventRecord,
  consumerIds?: readonly string[],
): Promise<Replayed> {
  const chosen = consumerIds === undefined ? undefined : chosenConsumers(consumers, consumerIds);
  const targets = (chosen ?? consumers.all()).filter((c) => c.pipeline.matchesType(event.eventType) && !c.disabled);
  const messages = await sendAgain(store, dispatcher, event, targets);
  const sent = new Set(messages.map((m) => m.consumerId));
  const passedOver = (chosen ?? [])
    .filter((c) => !sent.has(c.id))
    .map((c) => ({
      consumerId: c.id,
      reason: c.disabled ? 'disabled' : 'not subscribed to this event, or its filter refuses it',
    }));
  return { eventId: event.id, messages, passedOver };
}
