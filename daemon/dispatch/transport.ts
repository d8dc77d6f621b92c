import type { TransportResult } from '../../plugins/contract.js';
import { packageVersion } from '../common/version.js';
import type { AttemptRecord } from '../store/records.js';
import { failureOf } from './attempt-failure.js';
import type { Consumer } from './consumer.js';

export const USER_AGENT = `hooksd/${packageVersion()}`;
/** Headers every request carries; the request's own headers override them. */
export const DEFAULT_HEADERS = { 'user-agent': USER_AGENT, 'content-type': 'application/json' } as const;

export interface HttpRequest {
  method: 'POST' | 'PUT';
  url: string;
  /** Sent with `content-type: application/json` and hooksd's `user-agent`, which every request carries. */
  headers: Record<string, string>;
  /** The body as sent: bytes when the caller has them encoded already (an envelope shared by a fan-out). */
  body: string | Buffer;
}

/** What a request reads of its consumer: a worker thread builds this much of it (delivery-worker.ts). */
export type HttpTarget = Pick<Consumer, 'timeout' | 'agent' | 'tls'>;

export type HttpOutcome = Pick<
  AttemptRecord,
  'durationMs' | 'timings' | 'response' | 'outcome' | 'errorClass' | 'error'
>;

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

  /** What a transport answers of the body it read. */
  result(): { body: string; truncated: boolean } {
    return { body: Buffer.concat(this.chunks).toString('utf8'), truncated: this.truncated };
  }
}

/**
 * The outcome of an ended request. A success is a 2xx whose body was read to its end, or to
 * `maxResponseBytes`: a response cut by the timeout or a broken connection is a failure, with
 * what arrived of it recorded. A 3xx is a failure like any other non-2xx.
 */
export function outcomeOf(
  result: TransportResult,
  context: { started: number; timeoutMs: number; https: boolean },
): HttpOutcome {
  const { response, error, steps } = result;
  const timings = result.timings ?? {};
  const durationMs = Math.round(performance.now() - context.started);
  const failure = (statusCode?: number) =>
    failureOf(error, { timeoutMs: context.timeoutMs, https: context.https, statusCode, steps });
  if (response === undefined) return { durationMs, timings, outcome: 'failure', ...failure() };
  const { statusCode } = response;
  const recorded = { statusCode, headers: response.headers, body: response.body, truncated: response.truncated };
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
