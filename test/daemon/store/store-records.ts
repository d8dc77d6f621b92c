import type { Test } from 'tap';
import { sortableId } from '../../../daemon/store/ids.js';
import type { MessageRecord } from '../../../daemon/store/records.js';
import { Store } from '../../../daemon/store/store.js';
import { tempDir } from '../../helpers/hooksd.js';

/** A store in a temporary folder, stopped when the test ends. */
export async function openStore(t: Test): Promise<Store> {
  const store = new Store(tempDir(t, 'store'));
  await store.start();
  t.teardown(() => store.stop());
  return store;
}

/** A message for `consumerId` created at `createdAt`, not attempted yet. */
export function message(consumerId: string, createdAt: number, overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: sortableId('msg_', createdAt),
    eventId: `evt-${createdAt}`,
    consumerId,
    eventType: 'connection.created',
    status: 'sending',
    createdAt,
    updatedAt: createdAt,
    attempts: 0,
    nextAttemptAt: createdAt,
    ...overrides,
  };
}

/** An event and one message for each consumer, as ingest makes them. */
export function fanout(eventId: string, consumers: string[], now = Date.now()) {
  const event = {
    id: eventId,
    eventType: 'connection.created',
    generatedDate: new Date(now).toISOString(),
    receivedAt: now,
    seq: sortableId('', now),
    subject: 'events.connection.created',
    body: JSON.stringify({ id: eventId, payload: {} }),
  };
  const messages = consumers.map((c) => message(c, now, { eventId }));
  return { event, messages };
}
