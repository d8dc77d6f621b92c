/**
 * The pieces hooks.config.yaml's schema (schema.ts) is built of: the duration keyword's helper,
 * sections, the patterns of ids, names and secrets, a plugin entry, and the schemas of one
 * consumer (which the API validates on its own too) and of one event type.
 */
/**
 * A duration ("250ms", "5s", "5m", "2h", "5d"), in milliseconds once validated; plugins'
 * option schemas use it too. No `type: 'string'`: the keyword checks the type itself so that
 * `timeout: 5` is told what a duration looks like rather than "must be string".
 */
export function duration(description?: string): { readonly duration: true; readonly description?: string };
export function duration(
  description: string,
  defaultValue: string,
): { readonly duration: true; readonly default: string; readonly description: string };
export function duration(description?: string, defaultValue?: string) {
  return {
    duration: true,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    ...(description === undefined ? {} : { description }),
  };
}

/** A section of the file: known keys only, and written or not, it is there with its defaults. */
export const section = <const P extends Record<string, object>>(description: string, properties: P) =>
  ({ type: 'object', additionalProperties: false, default: {}, description, properties }) as const;

export const CONSUMER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** instance.id: a host name's first label or a pod name fits. */
export const INSTANCE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';
/** An event type name, or a prefix ending in `.*`, or `*` alone. */
export const EVENT_TYPE_SELECTOR_PATTERN = '^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$';
/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** `whsec_` then base64 of 24 to 64 bytes (32 to 88 base64 characters). */
export const SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]{32,86}={0,2}$';

/** A plugin in `pipeline:` or a consumer's `plugins:`: a built-in name or a module path, with options. */
export const pluginEntrySchema = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['use'],
      properties: {
        use: {
          type: 'string',
          minLength: 1,
          description: 'A built-in plugin name, or the path of a module (relative to the config file).',
        },
        options: { type: 'object', description: "The plugin's options; docs/plugins.md lists the built-ins' options." },
      },
    },
  ],
} as const;

export const DEFAULT_PIPELINE = ['eventTypes', 'payloadFilter', 'script', 'standardWebhooks', 'schedule'] as const;

export const consumerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url'],
  properties: {
    id: {
      type: 'string',
      pattern: CONSUMER_ID_PATTERN,
      description: 'Unique name of the consumer: 1 to 64 letters, digits, "_", "." or "-".',
    },
    url: {
      type: 'string',
      format: 'uri',
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      description: 'The endpoint events are sent to: an http:// or https:// URL.',
    },
    description: { type: 'string', default: '', description: 'Free text for people, shown by the API.' },
    eventTypes: {
      type: 'array',
      items: { type: 'string', pattern: EVENT_TYPE_SELECTOR_PATTERN },
      default: ['*'],
      description: 'Event types to receive: exact names, `prefix.*` for a whole family, `*` alone for everything.',
    },
    filter: {
      type: 'object',
      description:
        'Deliver only events whose envelope matches: dotted paths like `payload.connection.platformKey` ' +
        'holding a value or operators (`$eq`, `$in`, `$regex`, `$and`, ...: see payloadFilter in docs/plugins.md). ' +
        'Left out, every event of the chosen types.',
    },
    secret: {
      type: 'string',
      pattern: SECRET_PATTERN,
      description:
        'Signing secret: `whsec_` then the base64 of 24 to 64 random bytes. ' +
        'Left out, hooksd generates one and keeps it in its store.',
    },
    headers: {
      type: 'object',
      default: {},
      propertyNames: { pattern: HEADER_NAME_PATTERN, notReservedHeader: true },
      additionalProperties: { type: 'string' },
      description:
        'Headers added to every request, name to value. Headers hooksd sets itself ' +
        '(`webhook-*`, `content-type`, `content-length`, `host`, `user-agent`, ...) are refused.',
    },
    transform: {
      type: 'string',
      description:
        'Path of a script exporting `handler(webhook)`, which may change the method, url, headers or body, ' +
        'or cancel the delivery.',
    },
    rateLimit: {
      type: 'number',
      exclusiveMinimum: 0,
      description:
        'Requests per second, at most, for the whole group: with several instances each sends its share ' +
        '(the limit divided by the live instances; see docs/scaling.md). Left out, no limit.',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 1024,
      description:
        'Requests in flight at once to this consumer, for the whole group: with several instances each ' +
        'takes its share, 1 at least (see docs/scaling.md). Left out, `delivery.concurrency`.',
    },
    timeout: duration('Time the consumer has to answer 2xx. Left out, `delivery.timeout`.'),
    retrySchedule: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: duration(),
      description:
        "Delay before each attempt, the first one's included (`0s`: at once). " +
        "Left out, the schedule plugin's `schedule`.",
    },
    disabled: {
      type: 'boolean',
      default: false,
      description: 'Keep the consumer but send it nothing. The API can also enable and disable it.',
    },
    plugins: {
      type: 'array',
      items: pluginEntrySchema,
      default: [],
      description:
        'Plugins run after those of `pipeline` for this consumer only; ' +
        'a sign or retry plugin here replaces the global one.',
    },
    tls: section(
      'Mutual TLS with the consumer. Each value is a PEM file path (relative to the config file) or PEM text.',
      {
        cert: { type: 'string', description: 'Client certificate hooksd presents.' },
        key: { type: 'string', description: "The client certificate's private key." },
        ca: { type: 'string', description: "CA that signed the consumer's certificate. Left out, the system's CAs." },
      },
    ),
  },
} as const;

export const eventTypeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: {
      type: 'string',
      pattern: EVENT_TYPE_PATTERN,
      description: 'The event type: dot-separated names, like `connection.created`.',
    },
    description: { type: 'string', default: '', description: 'What happened, for people reading the catalog.' },
    schema: {
      type: 'object',
      description:
        "JSON Schema of the event's payload (draft-07, or 2020-12 with its `$schema`); " +
        'an event whose payload fails it goes to the dead-letter log. Left out, any payload.',
    },
    example: { description: 'A payload that POST /v1/consumers/:id/test sends; it must match `schema`.' },
  },
} as const;
