import { createHash } from 'node:crypto';
import type { JsMsg } from 'nats';
import { readPublished, type Envelope } from '../dispatch/envelope.js';

/**
 * Reads the event envelope from a JetStream message (dispatch's `readPublished`): an envelope
 * without an id and without a `Nats-Msg-Id` header gets one derived from its stream position,
 * so a redelivery gets the same id; one without a `generatedDate` gets the publish time.
 * Throws a HOOKSD_EVENT_INVALID error with the reason when the message cannot be an event.
 */
export function readEnvelope(msg: JsMsg, eventTypeFromSubject: (subject: string) => string): Envelope {
  return readPublished(
    {
      data: msg.data,
      subject: msg.subject,
      // nats.js answers "" for a header that is not there: that is no id.
      msgId: msg.headers?.get('Nats-Msg-Id') || undefined,
      fallbackId: () => derivedId(msg),
      publishedAt: Math.floor(msg.info.timestampNanos / 1e6),
    },
    eventTypeFromSubject,
  );
}

function derivedId(msg: JsMsg): string {
  const position = `${msg.info.stream}:${msg.seq}:${msg.info.timestampNanos}`;
  return 'evt_' + createHash('sha256').update(position).digest('base64url').slice(0, 22);
}
