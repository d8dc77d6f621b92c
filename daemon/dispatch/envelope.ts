import { EVENT_TYPE_PATTERN } from '../../config/schema.js';
import type { EventView } from '../../plugins/contract.js';
import { HooksdError } from '../common/errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../common/json-depth.js';
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

/** What an envelope is read from: bytes published on NATS, as ingest pulls them or a dead letter kept them. */
export interface Published {
  data: Uint8Array;
  subject: string;
  /** The `Nats-Msg-Id` header, when there are headers. */
  msgId: string | undefined;
  /** The id when neither the envelope nor the header gives one: the same every time for the same message. */
  fallbackId: () => string;
  /** When it was published (ms since the epoch): the `generatedDate` of an envelope without one. */
  publishedAt: number;
}

/** Why a message cannot be an event; the reason is kept on its dead letter. */
const invalid = (reason: string) => new HooksdError('HOOKSD_EVENT_INVALID', reason);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const eventTypePattern = new RegExp(EVENT_TYPE_PATTERN);
// RFC 3339 as the API checks it: `T` or `t` (or a space), `Z` or `z`; Date.parse must read it too.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}[Tt\s]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/;
const MAX_ID_LENGTH = 256;
const SHOWN_LENGTH = 100;

/**
 * Reads the event envelope of a published message, applying the envelope's fallbacks: `id` from
 * the `Nats-Msg-Id` header, then `fallbackId`; `eventType` from the subject; `generatedDate` from
 * the publish time. Throws a HOOKSD_EVENT_INVALID error with the reason when the message cannot
 * be an event. Ingest reads every message with it, and a redrive reads a dead letter with it.
 */
export function readPublished(published: Published, eventTypeFromSubject: (subject: string) => string): Envelope {
  let text: string;
  try {
    text = utf8.decode(published.data);
  } catch {
    throw invalid('body is not valid UTF-8');
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = JSON.parse(text);
  } catch (error) {
    throw invalid(`body is not JSON: ${(error as Error).message}`);
  }
  if (nestedDeeperThan(envelope, MAX_JSON_DEPTH)) throw invalid(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope))
    throw invalid('envelope must be a JSON object');
  if (!('payload' in envelope)) throw invalid('envelope has no "payload"');

  const id = envelope.id ?? published.msgId ?? published.fallbackId();
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || hasControlCharacter(id)) {
    throw invalid(`"id" must be a non-empty string of at most ${MAX_ID_LENGTH} printable characters`);
  }
  const eventType = envelope.eventType ?? eventTypeFromSubject(published.subject);
  if (typeof eventType !== 'string' || !eventTypePattern.test(eventType)) {
    throw invalid(`"eventType" must be dot-separated names like "connection.created" (got ${shown(eventType)})`);
  }
  const generatedDate = envelope.generatedDate ?? new Date(published.publishedAt).toISOString();
  if (typeof generatedDate !== 'string' || !ISO_DATE.test(generatedDate) || Number.isNaN(Date.parse(generatedDate))) {
    throw invalid(`"generatedDate" must be an ISO 8601 date-time (got ${shown(generatedDate)})`);
  }
  const complete = envelope.id === id && envelope.eventType === eventType && envelope.generatedDate === generatedDate;
  const body = complete ? text : JSON.stringify({ ...envelope, id, eventType, generatedDate });
  return { id, eventType, generatedDate, body, view: { id, eventType, generatedDate, payload: envelope.payload } };
}

/** A value for a refusal's reason: as JSON, cut short, since the reason is logged and the message is kept anyway. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}
