/**
 * The one schema of hooks.config.yaml: option names, defaults and validation. Durations are
 * written as strings ("250ms", "5s", "5m", "2h", "5d") and the `duration` keyword (see
 * validate.ts) turns them into milliseconds while validating, so the rest of hooksd only
 * ever sees numbers.
 */

// No `type: 'string'`: the keyword checks the type itself so that `timeout: 5` is told what a
// duration looks like rather than "must be string".
const duration = (defaultValue?: string) =>
  defaultValue === undefined ? { duration: true } : { duration: true, default: defaultValue };

const strictObject = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties,
  ...extra,
});

export const CONSUMER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
export const EVENT_TYPE_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';
/** An event type name, or a prefix ending in `.*`, or `*` alone. */
export const EVENT_TYPE_SELECTOR_PATTERN = '^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$';
/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** `whsec_` then base64 of 24 to 64 bytes (32 to 88 base64 characters). */
export const SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]{32,86}={0,2}$';

/** A plugin in `pipeline:` or a consumer's `plugins:`: a built-in name or a module path, with options. */
const pluginEntrySchema = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['use'],
      properties: { use: { type: 'string', minLength: 1 }, options: { type: 'object' } },
    },
  ],
};

export const DEFAULT_PIPELINE = ['eventTypes', 'payloadFilter', 'script', 'standardWebhooks', 'schedule'];

export const consumerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url'],
  properties: {
    id: { type: 'string', pattern: CONSUMER_ID_PATTERN },
    url: { type: 'string', format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' },
    description: { type: 'string', default: '' },
    eventTypes: { type: 'array', items: { type: 'string', pattern: EVENT_TYPE_SELECTOR_PATTERN }, default: ['*'] },
    filter: { type: 'object' },
    secret: { type: 'string', pattern: SECRET_PATTERN },
    headers: {
      type: 'object',
      default: {},
      propertyNames: { pattern: HEADER_NAME_PATTERN, notReservedHeader: true },
      additionalProperties: { type: 'string' },
    },
    transform: { type: 'string' },
    rateLimit: { type: 'number', exclusiveMinimum: 0 },
    concurrency: { type: 'integer', minimum: 1, maximum: 1024 },
    timeout: duration(),
    retrySchedule: { type: 'array', minItems: 1, maxItems: 50, items: duration() },
    disabled: { type: 'boolean', default: false },
    plugins: { type: 'array', items: pluginEntrySchema, default: [] },
    tls: strictObject({ cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' } }),
  },
};

const eventTypeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: EVENT_TYPE_PATTERN },
    description: { type: 'string', default: '' },
    schema: { type: 'object' },
    example: {},
  },
};

// The root has no `default`: ajv ignores one there (and strict mode refuses it); the loader
// reads an empty file as {}.
export const configSchema = {
  $id: 'https://hooksd.dev/schemas/config.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    server: strictObject({
      listen: { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '0.0.0.0:8080' },
      auth: strictObject({
        tokens: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'token', 'scopes'],
            properties: {
              name: { type: 'string', minLength: 1 },
              token: { type: 'string', minLength: 16 },
              scopes: { type: 'array', minItems: 1, items: { enum: ['read', 'admin', 'publish'] } },
            },
          },
        },
      }),
    }),
    nats: strictObject({
      servers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(nats|tls)://' } },
      stream: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'HOOKS_EVENTS' },
      subjects: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, default: ['events.>'] },
      durable: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', default: 'hooksd' },
      createStream: { type: 'boolean', default: true },
      embeddedPort: { type: 'integer', minimum: 1, maximum: 65535, default: 4222 },
      maxAckPending: { type: 'integer', minimum: 1, default: 4096 },
    }),
    ingest: strictObject({
      unknownTypes: { enum: ['reject', 'deliver'], default: 'reject' },
    }),
    storage: strictObject({
      path: { type: 'string', minLength: 1, default: './data' },
      retention: duration('30d'),
      purgeSchedule: { type: 'string', cron: true, default: '0 */10 * * * *' },
    }),
    delivery: strictObject({
      timeout: duration('15s'),
      disableAfter: duration('5d'),
      maxResponseBytes: { type: 'integer', minimum: 0, default: 16384 },
      concurrency: { type: 'integer', minimum: 1, maximum: 1024, default: 32 },
      sweepSchedule: { type: 'string', cron: true, default: '* * * * * *' },
      network: strictObject({
        allowPrivate: { type: 'boolean', default: false },
        allowCidrs: { type: 'array', items: { type: 'string', cidr: true }, default: [] },
      }),
    }),
    shutdown: strictObject({ timeout: duration('20s') }),
    log: strictObject({
      level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    }),
    eventTypes: { type: 'array', items: eventTypeSchema, default: [] },
    pipeline: { type: 'array', items: pluginEntrySchema, default: DEFAULT_PIPELINE },
    consumers: { type: 'array', items: consumerSchema, default: [] },
  },
} as const;

export type PluginEntry = string | { use: string; options?: Record<string, unknown> };

export type Scope = 'read' | 'admin' | 'publish';

export interface TokenConfig {
  name: string;
  token: string;
  scopes: Scope[];
}

export interface EventTypeConfig {
  name: string;
  description: string;
  schema?: Record<string, unknown>;
  example?: unknown;
}

export interface ConsumerConfig {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  filter?: Record<string, unknown>;
  secret?: string;
  headers: Record<string, string>;
  transform?: string;
  rateLimit?: number;
  concurrency?: number;
  /** Milliseconds. */
  timeout?: number;
  /** Milliseconds before each attempt; the first entry is the delay of the first attempt. */
  retrySchedule?: number[];
  disabled: boolean;
  /** Plugins added to the global pipeline for this consumer. */
  plugins: PluginEntry[];
  tls: { cert?: string; key?: string; ca?: string };
}

/** The validated config with defaults applied and every duration in milliseconds. */
export interface HooksdConfig {
  server: { listen: string; auth: { tokens: TokenConfig[] } };
  nats: {
    servers?: string[];
    stream: string;
    subjects: string[];
    durable: string;
    createStream: boolean;
    embeddedPort: number;
    maxAckPending: number;
  };
  ingest: { unknownTypes: 'reject' | 'deliver' };
  /** purgeSchedule: a cron expression with seconds. */
  storage: { path: string; retention: number; purgeSchedule: string };
  delivery: {
    timeout: number;
    disableAfter: number;
    maxResponseBytes: number;
    concurrency: number;
    /** A cron expression with seconds. */
    sweepSchedule: string;
    network: { allowPrivate: boolean; allowCidrs: string[] };
  };
  shutdown: { timeout: number };
  log: { level: string };
  eventTypes: EventTypeConfig[];
  pipeline: PluginEntry[];
  consumers: ConsumerConfig[];
}
