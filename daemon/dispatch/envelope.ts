import type { EventView } from '../../plugins/contract.js';
import type { EventRecord } from '../store/records.js';

/** An event as fan-out and delivery see it. */
export interface Envelope {
  id: string;
  eventType: string;
  generatedDate: string;
  /** The envelope as delivered: the published bytes when they already were a whole envelope. */
  body: string;
  /** What filters see: the envelope's fields, payload included. */
  view: EventView;
}

/** The envelope of a stored event, as filters and transforms see it. */
export function envelopeOf(event: EventRecord): Envelope {
  const { payload } = JSON.parse(event.body) as { payload: unknown };
  const { id, eventType, generatedDate, body } = event;
  return { id, eventType, generatedDate, body, view: { id, eventType, generatedDate, payload } };
}
