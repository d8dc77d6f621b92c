import { MESSAGE_STATUSES } from '../store/records.js';

/**
 * JSON Schemas of what the API answers, one per record it shows. Each carries a `title`:
 * /openapi.json lists it once under that name in `components.schemas` and refers to it from
 * every answer that holds it; docs/api.md shows it as a table. Objects list every field they
 * may hold (`additionalProperties: false`), so a test that checks live answers against these
 * schemas finds any field left undescribed.
 */
export type Schema = Record<string, unknown>;

export const text = (description: string): Schema => ({ type: 'string', description });
export const integer = (description: string): Schema => ({ type: 'integer', description });
export const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
export const timeOrNull = (description: string): Schema => ({
  type: ['string', 'null'],
  format: 'date-time',
  description,
});
export const textOrNull = (description: string): Schema => ({ type: ['string', 'null'], description });
export const list = (items: Schema, description: string): Schema => ({ type: 'array', items, description });
export const mapOf = (values: Schema, description: string): Schema => ({
  type: 'object',
  additionalProperties: values,
  description,
});

/** An object of these fields, all required but those in `optional`. */
export function shape(title: string, description: string, properties: Record<string, Schema>, optional: string[] = []) {
  const required = Object.keys(properties).filter((name) => !optional.includes(name));
  return { title, description, type: 'object', additionalProperties: false, required, properties };
}

/** A page of a list: `{data, nextCursor}`. */
export function pageOf(item: Schema & { title: string }): Schema {
  return shape(`${item.title}Page`, `A page of ${item.title} records.`, {
    data: list(item, 'The records of this page.'),
    nextCursor: textOrNull('Pass it as `cursor` for the next page; null on the last page.'),
  });
}

/** A page of a list gathered from every live instance of a group (docs/scaling.md). */
export function groupPageOf(item: Schema & { title: string }): Schema {
  return shape(
    `${item.title}Page`,
    `A page of ${item.title} records, from every live instance of the group.`,
    {
      data: list(item, 'The records of this page.'),
      nextCursor: textOrNull('Pass it as `cursor` for the next page; null on the last page.'),
      missingInstances: list(
        text('An instance id.'),
        'Only when some are: the live instances that did not answer in time. Their records in the range of this ' +
          'page are not on it (the header Hooksd-Missing-Instances names them too).',
      ),
    },
    ['missingInstances'],
  );
}

export const errorSchema = shape('Error', 'Every error the API answers.', {
  code: { type: 'string', description: 'A code of docs/errors.md.', examples: ['HOOKSD_NOT_FOUND'] },
  message: text('What went wrong, for people.'),
  details: {
    description:
      'More about it, or null: the list of problems of a refused query or body (HOOKSD_INVALID_REQUEST), ' +
      '`{reason, errors}` for an event that does not fit the catalog (HOOKSD_EVENT_REFUSED), `{host, refused}` for ' +
      'a consumer URL delivery.network refuses (HOOKSD_URL_REFUSED).',
  },
});

const consumerFields = {
  id: text('The consumer id.'),
  url: text('Where its events are sent.'),
  description: text('Free text for people.'),
  source: { enum: ['yaml', 'api'], description: 'From the config file (yaml) or created through the API.' },
  eventTypes: list(text('An event type, `prefix.*` or `*`.'), 'The event types it takes.'),
  filter: { type: ['object', 'null'], additionalProperties: true, description: 'Its payload filter, or null.' },
  transform: textOrNull("The path of its transform script, relative to the config file's folder, or null."),
  disabled: { type: 'boolean', description: 'Whether it is sent nothing now.' },
  disabledReason: textOrNull('Why it is disabled, or null.'),
  failingSince: timeOrNull('Time of the first failed attempt since the last success; null while healthy.'),
  headers: list(text('A header name.'), 'The names of the headers it adds (never their values).'),
  rateLimit: {
    type: ['number', 'null'],
    description: 'Requests per second at most, for the whole group of instances, or null for no limit.',
  },
  concurrency: integer('Requests in flight at once, at most, for the whole group of instances.'),
  timeoutMs: integer('Time it has to answer, in ms.'),
  retryScheduleMs: list({ type: 'integer' }, 'Delay before each attempt, in ms.'),
  activeSecrets: integer('Secrets signing now (two during a rotation).'),
};
const warnings = list(
  text('A warning.'),
  'What may keep deliveries from working although the change was taken (a URL whose name does not resolve now).',
);

export const consumerSchema = shape('Consumer', 'A consumer; never its secrets.', consumerFields);
export const createdConsumerSchema = shape('CreatedConsumer', 'A consumer just created, with its secret.', {
  ...consumerFields,
  secret: text('The signing secret: shown this once.'),
  warnings,
});
export const changedConsumerSchema = shape('ChangedConsumer', 'A consumer just changed.', {
  ...consumerFields,
  warnings,
});
export const rotatedSecretSchema = shape('RotatedSecret', 'A new signing secret.', {
  secret: text('The new signing secret: shown this once.'),
  previousSecretsExpireAt: timeOrNull('When the older secrets stop signing; null when they already have.'),
});

export const eventTypeSchema = shape('EventType', 'An event type of the catalog.', {
  name: text('The type.'),
  description: text('What happened.'),
  schema: {
    type: ['object', 'null'],
    additionalProperties: true,
    description: 'JSON Schema of its payload, or null for any payload.',
  },
  example: { description: 'A payload that fits, or null.' },
});

export const messageSchema = shape(
  'Message',
  'One event for one consumer, with where its delivery stands.',
  {
    id: text('The message id; the `webhook-id` of its requests.'),
    eventId: text('The event it delivers.'),
    consumerId: text('The consumer it is for.'),
    eventType: text('The event type.'),
    status: { enum: MESSAGE_STATUSES, description: 'Where delivery stands.' },
    createdAt: time('When it was made.'),
    updatedAt: time('When it last changed.'),
    attempts: integer('Attempts made.'),
    manualAttempts: integer('Of those, manual ones (resends); absent before the first attempt.'),
    nextAttemptAt: timeOrNull('When the next scheduled attempt is due; null when none is.'),
    lastStatusCode: integer("The last answer's HTTP status, when there was one."),
    lastError: text('Why the last attempt failed, or why the message ended without one.'),
    cancelledAt: time('When it was cancelled through the API.'),
    cancelReason: text('Why it was cancelled, as given.'),
  },
  ['manualAttempts', 'lastStatusCode', 'lastError', 'cancelledAt', 'cancelReason'],
);

const stringMap = mapOf({ type: 'string' }, 'Header name to value.');
export const attemptSchema = shape(
  'Attempt',
  'One attempt of a message: the request, the answer, timings.',
  {
    messageId: text('The message.'),
    attempt: integer('Its number, from 1.'),
    trigger: { enum: ['scheduled', 'manual'], description: 'Scheduled by the retry policy, or a resend.' },
    startedAt: time('When it started.'),
    durationMs: { type: 'number', description: 'How long it took, in ms.' },
    timings: mapOf({ type: 'number' }, 'Phases in ms: wait, dns, tcp, tls, request, firstByte, download, total.'),
    request: shape(
      'AttemptRequest',
      'The request sent; credentials redacted.',
      {
        method: text('The method.'),
        url: text('The URL.'),
        headers: stringMap,
        body: text('The body; absent when the event is no longer stored.'),
      },
      ['body'],
    ),
    response: shape('AttemptResponse', 'The answer, when one came.', {
      statusCode: integer('The HTTP status.'),
      headers: mapOf({ anyOf: [{ type: 'string' }, list({ type: 'string' }, 'Repeated header.')] }, 'Headers.'),
      body: text('The body, up to delivery.maxResponseBytes.'),
      truncated: { type: 'boolean', description: 'Whether the body was cut.' },
    }),
    outcome: { enum: ['success', 'failure'], description: 'A 2xx answer or not.' },
    errorClass: {
      enum: ['timeout', 'connect', 'dns', 'tls', 'blocked', 'http', 'transform'],
      description: 'What kind of failure.',
    },
    error: text('What failed.'),
  },
  ['response', 'errorClass', 'error'],
);

export const deadLetterSchema = shape(
  'DeadLetter',
  'A message refused at ingest, kept as it came.',
  {
    id: text('The dead letter id.'),
    receivedAt: time('When it came.'),
    subject: text('Its NATS subject.'),
    reason: text('Why it was refused.'),
    data: text('Its bytes: UTF-8 text, or base64.'),
    encoding: { enum: ['utf8', 'base64'], description: 'How `data` is written.' },
    headers: mapOf(list({ type: 'string' }, 'Values.'), 'Its NATS headers.'),
    streamSequence: integer('Its position in the stream.'),
    eventId: text('The event id, when the envelope could be read.'),
    eventType: text('The event type, when the envelope could be read.'),
    redrivenAt: time('When it was redriven, once it was.'),
    redrivenEventId: text('The event it became when redriven.'),
  },
  ['streamSequence', 'eventId', 'eventType', 'redrivenAt', 'redrivenEventId'],
);

const eventFields = {
  id: text('The event id.'),
  eventType: text('The type.'),
  generatedDate: time('When it happened (the envelope keeps it as it was published).'),
  receivedAt: time('When hooksd received it.'),
  subject: text('Its NATS subject.'),
  envelope: {
    type: 'object',
    required: ['id', 'eventType', 'generatedDate', 'payload'],
    additionalProperties: true,
    properties: {
      id: { type: 'string' },
      eventType: { type: 'string' },
      generatedDate: { type: 'string' },
      payload: {},
    },
    description: 'The envelope exactly as consumers receive it.',
  },
};
export const eventSchema = shape('Event', 'An event received.', eventFields);
export const eventWithMessagesSchema = shape('EventWithMessages', 'An event with its messages.', {
  ...eventFields,
  messages: list(messageSchema, 'Its messages (at most 250).'),
});
export const publishedSchema = shape('Published', 'An event put on the stream.', {
  id: text('The event id.'),
  subject: text('The subject it was published on.'),
  stream: text('The JetStream stream.'),
  sequence: integer('Its position in the stream.'),
  duplicate: { type: 'boolean', description: 'True when NATS had it already (same id or Idempotency-Key).' },
});
export const replayedSchema = shape('Replayed', 'New messages of an event.', {
  eventId: text('The event.'),
  messages: list(messageSchema, 'The messages made.'),
  passedOver: list(
    shape('PassedOver', 'A consumer asked for that got no message.', {
      consumerId: text('The consumer.'),
      reason: text('Why not.'),
    }),
    'Consumers named in `consumerIds` that got none.',
  ),
});
export const resentSchema = shape('Resent', 'A manual attempt queued.', {
  messageId: text('The message.'),
  status: { const: 'queued', description: 'Queued for an attempt.' },
});
export const redrivenSchema = shape('Redriven', 'A dead letter ingested after all.', {
  deadLetter: deadLetterSchema,
  eventId: text('The event it became.'),
  duplicate: { type: 'boolean', description: 'True when that event was stored already: no message was made.' },
  messages: list(messageSchema, 'The messages made.'),
});

export const taskSchema = shape('Task', 'A bulk task and its progress.', {
  id: text('The task id.'),
  kind: { enum: ['recover', 'replay-missing'], description: 'What it does.' },
  consumerId: text('The consumer it works for.'),
  since: time('Start of its time range.'),
  until: timeOrNull('End of its time range; null for now.'),
  status: {
    enum: ['running', 'done', 'failed'],
    description: 'Where it stands: running while any part runs or waits; then failed if a part failed, else done.',
  },
  createdAt: time('When it was made.'),
  updatedAt: time('When a part last saved its progress.'),
  finishedAt: timeOrNull('When it ended; null while running.'),
  examined: integer('Records looked at, summed over its parts.'),
  sent: integer('Messages resent or made, summed over its parts.'),
  error: textOrNull('Why it failed (each failed part: its instance and why), or null.'),
  parts: list(
    shape('TaskPart', "One instance's part of a task: the records of that instance's store.", {
      instance: text('The instance (instance.id).'),
      status: {
        enum: ['waiting', 'running', 'done', 'failed'],
        description: 'Where it stands; waiting: the instance has not started it yet (starting, or not alive).',
      },
      live: { type: 'boolean', description: 'Whether the instance is alive now.' },
      startedAt: timeOrNull('When the instance started it; null while waiting.'),
      updatedAt: timeOrNull('When it last saved its progress (at most once a second); null while waiting.'),
      finishedAt: timeOrNull('When it ended; null until then.'),
      examined: integer("Records of the instance's store looked at."),
      sent: integer('Messages it resent or made.'),
      error: textOrNull('Why it failed, or null.'),
    }),
    "Each instance's part, by instance id: those alive when the task was made, and any that joined while it ran.",
  ),
});

export const identitySchema = shape('Identity', 'The token a request came with.', {
  name: textOrNull('Its name in server.auth.tokens; null when no tokens are configured (every route is open).'),
  scopes: list({ enum: ['read', 'admin', 'publish'] }, 'What it may do: read, admin (changes), publish (events).'),
});
export const healthSchema = shape('Health', 'The process answers.', { status: { const: 'ok', description: 'ok.' } });
export const readinessSchema = shape('Readiness', 'Whether hooksd takes work, and what is wrong otherwise.', {
  status: { enum: ['ready', 'not ready'], description: 'The verdict.' },
  checks: shape('ReadinessChecks', 'Each check.', {
    store: { type: 'boolean', description: 'The store is open and writable.' },
    nats: { type: 'boolean', description: 'NATS is connected and ingest runs.' },
    draining: { type: 'boolean', description: 'hooksd is stopping.' },
  }),
  problems: mapOf({ type: 'string' }, 'For each failing check, why.'),
  details: mapOf(
    { type: 'string' },
    'What an operator should know that does not stop hooksd from taking work: `config` when the consumers in ' +
      "this instance's config file differ from another instance's.",
  ),
  instances: shape('ReadinessInstances', 'The instances of the group (docs/scaling.md).', {
    self: text("This instance's id (`instance.id`)."),
    live: list(
      { type: 'string' },
      'The ids of the instances alive as this one sees them (heard from within 6 s), itself included, sorted.',
    ),
  }),
});
export const openApiSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', description: 'The OpenAPI version: 3.1.0.' },
    info: { type: 'object', additionalProperties: true, description: 'Title, version and description.' },
    paths: { type: 'object', additionalProperties: true, description: 'Each route.' },
  },
  description: 'An OpenAPI 3.1 document.',
};
