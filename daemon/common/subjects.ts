/**
 * The NATS subjects hooksd reads and writes: events arrive on the configured stream subjects,
 * operational events leave on `hooksd.ops.<type>`, instances announce themselves and hand
 * retries over on `hooksd.instances.<stream>` and `hooksd.handover.<stream>`, answer each other's API
 * questions on `hooksd.api.<stream>.<instance id>`, and mock events
 * are recorded with a subject of their own since they never crossed NATS.
 */

export const OPS_SUBJECT_PREFIX = 'hooksd.ops.';

/** Where the instances of a group (those reading `stream`) announce themselves: core NATS, nothing kept. */
export const presenceSubject = (stream: string) => `hooksd.instances.${stream}`;

/** Where a stopping instance hands its pending retries over, captured by the stream `handoverStream`. */
export const handoverSubject = (stream: string) => `hooksd.handover.${stream}`;
/** Where an instance asks the others which of some redelivered events they have stored already. */
export const storedEventsSubject = (stream: string) => `hooksd.stored.${stream}`;
export const handoverStream = (stream: string) => `${stream}_HANDOVER`;
/** Where an instance answers the API questions of the others (a page of a list, a record, an action on it). */
export const apiSubject = (stream: string, instanceId: string) => `hooksd.api.${stream}.${instanceId}`;

/** The subject recorded on mock events, which are made by hooksd rather than received from NATS. */
export const MOCK_EVENT_SUBJECT = 'hooksd.mock';

/** The literal subject tokens before the first wildcard of a configured subject. */
function literalPrefix(pattern: string): string[] {
  const tokens = pattern.split('.');
  const wildcard = tokens.findIndex((t) => t === '*' || t === '>');
  return wildcard === -1 ? tokens : tokens.slice(0, wildcard);
}

/** `events.connection.created` → `connection.created` for subjects `["events.>"]`. */
export function eventTypeFromSubject(subject: string, subjects: readonly string[]): string {
  const tokens = subject.split('.');
  for (const pattern of subjects) {
    const prefix = literalPrefix(pattern);
    if (prefix.length < tokens.length && prefix.every((t, i) => tokens[i] === t))
      return tokens.slice(prefix.length).join('.');
  }
  return subject;
}

/** The subject an event of `eventType` is published on: the first configured subject's prefix and the type. */
export function subjectForEventType(eventType: string, subjects: readonly string[]): string {
  const pattern = subjects[0];
  const prefix = literalPrefix(pattern);
  return prefix.length === pattern.split('.').length ? pattern : [...prefix, eventType].join('.');
}
