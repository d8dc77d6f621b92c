import type { IncomingHttpHeaders } from 'node:http';
import { packageVersion } from '../common/version.js';
import type { AttemptRecord } from '../store/records.js';
import { failureOf, type RequestError } from './attempt-failure.js';
import type { Consumer } from './consumers.js';
import type { NetworkGuard } from './network-guard.js';

export const USER_AGENT = `hooksd/${packageVersion()}`;
/** Headers every request carries; the request's own headers override them. */
export const DEFAULT_HEADERS = { 'user-agent': USER_AGENT, 'content-type': 'application/json' } as const;

/** The transports `delivery.transport` names: got is the default, node is node:http(s) alone. */
export const TRANSPORT_NAMES = ['got', 'node'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

export interface HttpRequest {
  method: 'POST' | 'PUT';
  url: string;
  /** Sent with `content-type: application/json` and hooksd's `user-agent`, which every request carries. */
  headers: Record<string, string>;
  /** The body as sent: bytes when the caller has them encoded already (an envelope shared by a fan-out). */
  body: string | Buffer;
}

/** What a request reads of its consumer: a worker thread builds this much of it (delivery-worker.ts). */
export type HttpTarget = Pick<Consumer, 'timeout' | 'agent'>;

export type HttpOutcome = Pick<
  AttemptRecord,
  'durationMs' | 'timings' | 'response' | 'outcome' | 'errorClass' | 'error'
>;

/**
 * Sends one request whose URL the guard has passed (http-attempt.ts) and reads at most
 * `maxResponseBytes` of the answer. Never throws. Each transport keeps the same promises:
 * the consumer's timeout covers the whole request, body included; a hostname is resolved by
 * `guard.lookup` and the socket connects to the address it checked; the consumer's agents
 * carry its keep-alive sockets and its TLS files; redirects are not followed; the timings
 * are got's phases (wait, dns, tcp, tls, request, firstByte, download, total).
 */
export type Transport = (
  consumer: HttpTarget,
  request: HttpRequest,
  maxResponseBytes: number,
  guard: NetworkGuard,
  started: number,
) => Promise<HttpOutcome>;

/** The body as read so far, cut at `max` bytes. */
export class BodyCut {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  /** Keeps what fits; true once the body went past `max` and reading must stop. */
  add(chunk: Buffer): boolean {
    const room = this.max - this.kept;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.kept = this.max;
      this.truncated = true;
      return true;
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
    return false;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** How a request ended, as the transport saw it. */
export interface Ending {
  started: number;
  timings: Record<string, number | undefined>;
  /** Set once the response headers arrived. */
  response?: { statusCode: number; headers: IncomingHttpHeaders; body: BodyCut };
  /** Unset when the body was read to its end or cut at maxResponseBytes. */
  error?: RequestError;
  timeoutMs: number;
  https: boolean;
}

/**
 * The outcome of an ended request. A success is a 2xx whose body was read to its end, or to
 * `maxResponseBytes`: a response cut by the timeout or a broken connection is a failure, with
 * what arrived of it recorded. A 3xx is a failure like any other non-2xx.
 */
export function outcomeOf(ending: Ending): HttpOutcome {
  const { timings, response, error } = ending;
  const durationMs = Math.round(performance.now() - ending.started);
  const failure = (statusCode?: number) =>
    failureOf(error, { timeoutMs: ending.timeoutMs, https: ending.https, statusCode });
  if (response === undefined) return { durationMs, timings, outcome: 'failure', ...failure() };
  const { statusCode, headers, body } = response;
  const recorded = { statusCode, headers, body: body.text(), truncated: body.truncated };
  if (error !== undefined)
    return { durationMs, timings, outcome: 'failure', response: recorded, ...failure(statusCode) };
  const ok = statusCode >= 200 && statusCode < 300;
  return {
    durationMs,
    timings,
    outcome: ok ? 'success' : 'failure',
    response: recorded,
    ...(ok ? {} : { errorClass: 'http' as const, error: `HTTP ${statusCode}` }),
  };
}
