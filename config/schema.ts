/**
 * The one schema of hooks.config.yaml: option names, defaults, descriptions (docs/config.md is
 * generated from them) and validation; the config types at the end are derived from it.
 * Durations are written as strings ("250ms", "5s", "5m", "2h", "5d") and the `duration`
 * keyword (see validate.ts) turns them into milliseconds while validating, so the rest of
 * hooksd only ever sees numbers.
 */
import type { FromSchema } from 'json-schema-to-ts';
import {
  consumerSchema,
  DEFAULT_PIPELINE,
  duration,
  eventTypeSchema,
  INSTANCE_ID_PATTERN,
  pluginEntrySchema,
  section,
} from './schema-parts.js';

export {
  CONSUMER_ID_PATTERN,
  consumerSchema,
  DEFAULT_PIPELINE,
  duration,
  EVENT_TYPE_PATTERN,
  EVENT_TYPE_SELECTOR_PATTERN,
  HEADER_NAME_PATTERN,
  INSTANCE_ID_PATTERN,
  SECRET_PATTERN,
} from './schema-parts.js';

// The root has no `default`: ajv ignores one there (and strict mode refuses it); the loader
// reads an empty file as {}.
export const configSchema = {
  $id: 'https://hooksd.dev/schemas/config.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    server: section('The HTTP API and its metrics.', {
      listen: {
        type: 'string',
        pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\s]+):[0-9]{1,5}$',
        default: '0.0.0.0:8080',
        description: '`host:port` to listen on (an IPv6 host in brackets). With no tokens, loopback only.',
      },
      auth: section('Who may use the API.', {
        tokens: {
          type: 'array',
          default: [],
          description: 'Bearer tokens for the API. With none, the API listens on loopback only and needs no token.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'token', 'scopes'],
            properties: {
              name: { type: 'string', minLength: 1, description: 'A name to tell the token apart.' },
              token: {
                type: 'string',
                minLength: 16,
                description: 'The token itself, at least 16 characters; best read from the environment.',
              },
              scopes: {
                type: 'array',
                minItems: 1,
                items: { enum: ['read', 'admin', 'publish'] },
                description:
                  'What the token may do: `read` (look), `admin` (change consumers, resend, replay), ' +
                  '`publish` (POST /v1/events).',
              },
            },
          },
        },
      }),
    }),
    instance: section('This instance, when several hooksd share the work (docs/scaling.md).', {
      id: {
        type: 'string',
        pattern: INSTANCE_ID_PATTERN,
        description:
          "This instance's name in its group: letters, digits, `.`, `_` and `-`, at most 63 characters, unique " +
          'in the group and kept across restarts (its messages are found by it). Left out, the host name ' +
          '(its first label when the whole name does not fit).',
      },
    }),
    nats: section('Where events come from: NATS JetStream.', {
      servers: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', pattern: '^(nats|tls)://' },
        description:
          'NATS servers to connect to (`nats://` or `tls://`). Left out, hooksd runs `nats-server -js` itself, ' +
          'with its store under `storage.path`, and stops it on exit.',
      },
      stream: {
        type: 'string',
        pattern: '^[A-Za-z0-9_-]+$',
        default: 'HOOKS_EVENTS',
        description: 'The JetStream stream holding the events.',
      },
      subjects: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1 },
        default: ['events.>'],
        description:
          'Subjects the stream captures. An event on `events.connection.created` without an `eventType` ' +
          'in its body has type `connection.created`.',
      },
      durable: {
        type: 'string',
        pattern: '^[A-Za-z0-9_-]+$',
        default: 'hooksd',
        description: 'Name of the durable pull consumer hooksd reads with.',
      },
      controlBucket: {
        type: 'string',
        pattern: '^[A-Za-z0-9_-]+$',
        default: 'hooksd-control',
        description:
          'The JetStream key-value bucket holding what every instance shares: consumers created through the API, ' +
          "each consumer's enabled or disabled state, secrets and rotations, and tasks (docs/control-plane.md). " +
          'Created when missing.',
      },
      createStream: { type: 'boolean', default: true, description: 'Create the stream when it does not exist yet.' },
      replicas: {
        type: 'integer',
        minimum: 1,
        maximum: 5,
        default: 1,
        description:
          'Replicas of the streams hooksd creates (the events, and the hand-over of retries between instances): ' +
          '3 on a three-node NATS cluster, so that losing a server loses no event. An existing stream keeps its own.',
      },
      embeddedPort: {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
        default: 4222,
        description: 'Port of the embedded nats-server (used only without `servers`).',
      },
      maxAckPending: {
        type: 'integer',
        minimum: 1,
        default: 4096,
        description: 'Events pulled but not yet acknowledged, at most.',
      },
      failFast: {
        type: 'boolean',
        default: false,
        description:
          'Exit at start when `servers` cannot be reached, or JetStream does not answer (a cluster without ' +
          'a quorum), instead of trying again (the wait doubling up to 30 s) with a log line each time while ' +
          '/readyz answers 503.',
      },
      ackWait: duration(
        'How long NATS waits for hooksd to acknowledge an event it pulled before it delivers the event again: ' +
          'after a crash, the events pulled but not stored come back this long after they were pulled. ' +
          'hooksd tells NATS it is still working on events it holds longer.',
        '10s',
      ),
    }),
    ingest: section('What happens to incoming events.', {
      unknownTypes: {
        enum: ['reject', 'deliver'],
        default: 'reject',
        description:
          'An event whose type is not in `eventTypes`: `reject` keeps it in the dead-letter log with the reason; ' +
          '`deliver` sends it to matching consumers anyway.',
      },
    }),
    storage: section('State and attempt logs (LevelDB).', {
      path: {
        type: 'string',
        minLength: 1,
        default: './data',
        description: "Folder of hooksd's database (and of the embedded nats-server's store).",
      },
      retention: duration('Events, messages and attempts older than this are purged.', '30d'),
      purgeSchedule: {
        type: 'string',
        cron: true,
        default: '0 */10 * * * *',
        description: 'When the purge runs: a cron expression with seconds (the default: every 10 minutes).',
      },
    }),
    delivery: section('Outgoing requests.', {
      timeout: duration('Time a consumer has to answer 2xx before the attempt counts as failed.', '15s'),
      disableAfter: duration('A consumer whose attempts have all failed for this long is disabled.', '5d'),
      maxResponseBytes: {
        type: 'integer',
        minimum: 0,
        default: 16384,
        description: 'Response bodies are recorded up to this many bytes; the rest is not kept.',
      },
      concurrency: {
        type: 'integer',
        minimum: 1,
        maximum: 1024,
        default: 32,
        description:
          'Requests in flight at once per consumer, shared by the instances of a group; a consumer may set its own.',
      },
      workers: {
        type: 'integer',
        minimum: 0,
        maximum: 256,
        description:
          'Worker threads that send the requests (the transport, its sockets and its garbage), beside the main ' +
          'thread, which signs, records and talks to NATS and LevelDB. 0 sends them on the main thread. ' +
          'Left out: 0 on a machine with 2 cores or fewer, else one less than the cores. ' +
          'Read at start-up: a change applies after a restart.',
      },
      transport: {
        ...pluginEntrySchema,
        default: 'got',
        description:
          'What sends the requests, a plugin of kind transport: got (the default), node, which uses node:http and ' +
          'node:https alone and costs about half the CPU per delivery (BENCHMARKS.md), or a module path (relative ' +
          'to the config file) or `{ use, options }` for a transport of your own (docs/plugins.md). got and node ' +
          'keep the same timeout, response cut, network checks, TLS files and timings. A reload applies it to the ' +
          'next attempts.',
      },
      sweepSchedule: {
        type: 'string',
        cron: true,
        default: '* * * * * *',
        description:
          'When hooksd looks for retries that are due: a cron expression with seconds (the default: every second).',
      },
      network: section(
        'Which addresses consumers may have. Loopback, private and link-local addresses are refused by default, ' +
          'checked on the resolved address, so that a consumer URL cannot reach into your network.',
        {
          allowPrivate: {
            type: 'boolean',
            default: false,
            description: 'Allow loopback, private and link-local addresses, all of them.',
          },
          allowCidrs: {
            type: 'array',
            items: { type: 'string', cidr: true },
            default: [],
            description: 'Addresses or CIDR ranges allowed all the same, like `127.0.0.1/32` or `fd00::/8`.',
          },
        },
      ),
    }),
    shutdown: section('Stopping.', {
      timeout: duration(
        'On SIGTERM, how long attempts in flight get to finish after hooksd stops pulling events.',
        '20s',
      ),
    }),
    log: section('Logs: JSON lines on stdout, secrets redacted.', {
      level: {
        enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
        default: 'info',
        description: 'Least severity logged; `silent` logs nothing.',
      },
    }),
    eventTypes: {
      type: 'array',
      items: eventTypeSchema,
      default: [],
      description: 'The event catalog: every event type hooksd knows, with the schema of its payload.',
    },
    pipeline: {
      type: 'array',
      items: pluginEntrySchema,
      default: DEFAULT_PIPELINE,
      description:
        'Plugins every delivery runs through, in order: built-in names or module paths, ' +
        'or `{ use, options }`. docs/plugins.md describes them.',
    },
    consumers: {
      type: 'array',
      items: consumerSchema,
      default: [],
      description:
        'Who receives what. Consumers created through the API are kept in the database; the ones here ' +
        'cannot be changed through the API, except to enable or disable them.',
    },
  },
} as const;

/** A schema's `{ duration: true }` is a number of milliseconds once validated. */
export type SchemaTypeOptions = { deserialize: [{ pattern: { duration: true }; output: number }] };

type DeepReadonly<T> = T extends readonly (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * The config as validation leaves it, defaults applied and durations in milliseconds: the
 * loader resolves relative paths in it, then freezes it into a `HooksdConfig`.
 */
export type ValidatedConfig = FromSchema<typeof configSchema, SchemaTypeOptions>;

/** The loaded config: validated, defaults applied, durations in milliseconds, frozen. */
export type HooksdConfig = DeepReadonly<ValidatedConfig>;
export type ConsumerConfig = HooksdConfig['consumers'][number];
export type EventTypeConfig = HooksdConfig['eventTypes'][number];
export type TokenConfig = HooksdConfig['server']['auth']['tokens'][number];
export type Scope = TokenConfig['scopes'][number];
/** A plugin in `pipeline:` or a consumer's `plugins:`. */
export type PluginEntry = HooksdConfig['pipeline'][number];
