import type { LookupFunction } from 'node:net';
import type { Agent as HttpAgent, IncomingHttpHeaders } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { ConsumerConfig } from '../config/schema.js';

/**
 * The plugin contract. Every delivery runs through the pipeline of `pipeline:` in the config
 * (plus each consumer's `plugins:`), in order. A plugin module exports `name`, `kind`, an
 * `optionsSchema` (JSON Schema: the single source of its option names, defaults, validation
 * and docs/plugins.md) and `create(options, context)`, called once at start-up with options
 * already validated and defaulted. Work that can be done once is done in `create` or in
 * `forConsumer`, never per event.
 *
 * What each kind's answers mean:
 * - filter: `forConsumer` returns null when the plugin has nothing to say about a consumer,
 *   else a predicate over the event; false means the consumer does not get the event. A
 *   predicate that throws still creates the message, with status `failure` and the error.
 * - transform: `forConsumer` returns null or a function from webhook to webhook; setting
 *   `cancel: true` records the message as `cancelled`. A thrown error fails the attempt (error
 *   class `transform`), is recorded on it, and the retry plugin decides what comes next.
 * - sign: `headers` returns the signature headers of one attempt, computed over the exact
 *   body bytes that are sent. Exactly one sign plugin runs.
 * - retry: `forConsumer` returns the consumer's policy, whose `nextDelay` gives the delay
 *   before the first attempt (no failure yet) and before each next one after a failure, or
 *   null when the message has failed for good. Exactly one retry plugin runs.
 * - transport: `send` makes one HTTP request and reads its answer (see TransportRequest). It is
 *   named by `delivery.transport`, not in `pipeline:`; got is the default. With delivery workers,
 *   each worker thread loads the module and calls `create` again with the same options.
 * Nothing is ever dropped without a record: every outcome above ends on the message or an
 * attempt. A plugin holding resources implements `start()` and `stop()`.
 */

export type PluginKind = 'filter' | 'transform' | 'sign' | 'retry' | 'transport';

export interface PluginContext {
  /** Folder of the config file: relative paths in options are relative to it. */
  configDir: string;
}

export interface Lifecycle {
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/** What a filter sees of an event: the envelope, as delivered. */
export interface EventView {
  id: string;
  eventType: string;
  generatedDate: string;
  payload: unknown;
}

/** The request a transform may change: `payload` is the whole envelope. */
export interface Webhook {
  method: 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  payload: unknown;
  cancel: boolean;
}

export interface FilterInstance extends Lifecycle {
  forConsumer(consumer: ConsumerConfig): ((event: EventView) => boolean) | null;
}

export interface TransformInstance extends Lifecycle {
  forConsumer(consumer: ConsumerConfig): ((webhook: Webhook) => Webhook) | null;
}

export interface SignInstance extends Lifecycle {
  headers(input: {
    messageId: string;
    timestamp: number;
    body: string;
    keys: readonly Buffer[];
  }): Record<string, string>;
}

/** What the retry policy needs to know of a failed attempt. */
export interface FailedAttempt {
  statusCode?: number;
  errorClass?: string;
  /** The response's Retry-After header, when it had one. */
  retryAfter?: string;
}

/** One consumer's retry policy, resolved once per config. */
export interface RetryPolicy {
  /** The delays of the consumer's schedule, in ms: entry n is the delay before attempt n + 1. */
  readonly schedule: readonly number[];
  /**
   * The delay in ms before the next scheduled attempt, given how many were made and how the
   * last one failed (`failed` is absent before the first attempt); null when there is none.
   */
  nextDelay(attemptsMade: number, failed?: FailedAttempt): number | null;
}

export interface RetryInstance extends Lifecycle {
  forConsumer(consumer: ConsumerConfig): RetryPolicy;
}

/**
 * One request, as hooksd hands it to a transport. The URL's address has passed the network
 * policy when it is an IP literal; a hostname must be resolved with `lookup`, which refuses
 * addresses the policy refuses, and the socket must connect to the address it answered.
 * Redirects are not followed.
 */
export interface TransportRequest {
  method: 'POST' | 'PUT';
  url: string;
  /** Every header to send, content-type and user-agent included. */
  headers: Record<string, string>;
  body: string | Buffer;
  /** ms for the whole request, from its start to the end of the response body. */
  timeout: number;
  /** Read at most this many bytes of the response body, then stop reading and say `truncated`. */
  maxResponseBytes: number;
  /** The consumer's keep-alive agents, which carry its TLS client certificate, key and CA. */
  agents: { http: HttpAgent; https: HttpsAgent };
  /** The same TLS files (PEM), for a client that does not use node's agents. */
  tls: { cert?: string | Buffer; key?: string | Buffer; ca?: string | Buffer };
  /** node's dns.lookup, with the network policy's checks. */
  lookup: LookupFunction;
}

/**
 * How a request ended. `error` is set when it did not end with a whole response body (or one cut
 * at maxResponseBytes): node's error codes say why (ETIMEDOUT or a TimeoutError: the timeout;
 * ENOTFOUND: dns; ERR_TLS_…, CERT_…: tls; anything else: connect). `response` is what arrived,
 * even with an error. `steps` (Date.now() ms when the socket connected, finished its TLS
 * handshake, sent the body, had the response headers) name the step a timeout cut; `timings`
 * are the phases recorded on the attempt (got's names: wait, dns, tcp, tls, request,
 * firstByte, download, total).
 */
export interface TransportResult {
  response?: { statusCode: number; headers: IncomingHttpHeaders; body: string; truncated: boolean };
  error?: Error & { code?: string };
  steps?: { connect?: number; secureConnect?: number; upload?: number; response?: number };
  timings?: Record<string, number | undefined>;
}

/** Sends requests; never throws for a failed request (it answers `error`). */
export interface TransportInstance extends Lifecycle {
  send(request: TransportRequest): Promise<TransportResult>;
}

export interface InstanceOf {
  filter: FilterInstance;
  transform: TransformInstance;
  sign: SignInstance;
  retry: RetryInstance;
  transport: TransportInstance;
}

export interface PluginDefinition<K extends PluginKind = PluginKind, O = Record<string, unknown>> {
  name: string;
  kind: K;
  description: string;
  optionsSchema: Record<string, unknown>;
  /** An example `pipeline:` entry, for the docs. */
  example: string;
  create(options: O, context: PluginContext): InstanceOf[K];
}
