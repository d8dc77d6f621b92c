import got, { type Got, type Response } from 'got';
import { packageVersion } from '../common/version.js';
import type { AttemptRecord } from '../store/records.js';
import { failureOf, type RequestError, type Timings } from './attempt-failure.js';
import type { Consumer } from './consumers.js';
import type { NetworkGuard } from './network-guard.js';

export const USER_AGENT = `hooksd/${packageVersion()}`;
const HTTPS = /^https:/i;

export interface HttpRequest {
  method: 'POST' | 'PUT';
  url: string;
  /** Sent with `content-type: application/json` and hooksd's `user-agent`, which every request carries. */
  headers: Record<string, string>;
  /** The body as sent: bytes when the caller has them encoded already (an envelope shared by a fan-out). */
  body: string | Buffer;
}

/** A consumer's got instance: its options merged once, not on every request. */
interface Client {
  guard: NetworkGuard;
  got: Got;
}

/** What a request reads of its consumer: a worker thread builds this much of it (delivery-worker.ts). */
export type HttpTarget = Pick<Consumer, 'timeout' | 'agent'>;

/** One got instance per consumer (and network guard: both are replaced as a whole on reload). */
const clients = new WeakMap<HttpTarget, Client>();

function clientOf(consumer: HttpTarget, guard: NetworkGuard): Got {
  let client = clients.get(consumer);
  if (client === undefined || client.guard !== guard) {
    client = {
      guard,
      got: got.extend({
        headers: { 'user-agent': USER_AGENT, 'content-type': 'application/json' },
        timeout: { request: consumer.timeout },
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
        decompress: false,
        agent: consumer.agent,
        dnsLookup: guard.lookup,
      }),
    };
    clients.set(consumer, client);
  }
  return client.got;
}

export type HttpOutcome = Pick<
  AttemptRecord,
  'durationMs' | 'timings' | 'response' | 'outcome' | 'errorClass' | 'error'
>;

/**
 * Sends one request and reads at most `maxResponseBytes` of the answer (the rest is never
 * read into memory). Never throws: transport errors come back as a failed outcome with their
 * error class (attempt-failure.ts). A success is a 2xx whose body was read to its end, or to
 * `maxResponseBytes`: a response cut by the timeout or a broken connection is a failure, with
 * what arrived of it recorded. Redirects are not followed: a 3xx is a failure like any other non-2xx. The
 * guard checks the address before connecting: an IP literal here, a hostname's resolved
 * addresses in its lookup, whose answer is the address the socket then connects to.
 */
export function sendHttp(
  consumer: HttpTarget,
  request: HttpRequest,
  maxResponseBytes: number,
  guard: NetworkGuard,
): Promise<HttpOutcome> {
  const started = performance.now();
  const refused = guard.checkUrl(request.url);
  if (refused !== null)
    return Promise.resolve({ durationMs: 0, timings: {}, outcome: 'failure', errorClass: 'blocked', error: refused });
  return new Promise((resolve) => {
    const stream = clientOf(consumer, guard).stream(request.url, {
      method: request.method,
      body: request.body,
      headers: request.headers,
    });
    let response: Response | undefined;
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    let settled = false;
    const https = HTTPS.test(request.url);
    // Called without an error once the body ended or was cut at maxResponseBytes.
    const finish = (error?: RequestError) => {
      if (settled) return;
      settled = true;
      const durationMs = Math.round(performance.now() - started);
      const timings = phases(response?.timings ?? error?.timings);
      const failure = (statusCode?: number) => failureOf(error, { timeoutMs: consumer.timeout, https, statusCode });
      if (response === undefined) {
        resolve({ durationMs, timings, outcome: 'failure', ...failure() });
        return;
      }
      const { statusCode } = response;
      const ok = statusCode >= 200 && statusCode < 300;
      const recorded = {
        statusCode,
        headers: response.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
      };
      if (error !== undefined) {
        resolve({ durationMs, timings, outcome: 'failure', response: recorded, ...failure(statusCode) });
        return;
      }
      resolve({
        durationMs,
        timings,
        outcome: ok ? 'success' : 'failure',
        response: recorded,
        ...(ok ? {} : { errorClass: 'http' as const, error: `HTTP ${statusCode}` }),
      });
    };
    stream.on('response', (r: Response) => (response = r));
    stream.on('data', (chunk: Buffer) => {
      const room = maxResponseBytes - kept;
      if (chunk.length > room) {
        if (room > 0) chunks.push(chunk.subarray(0, room));
        kept = maxResponseBytes;
        truncated = true;
        stream.destroy();
        finish();
        return;
      }
      chunks.push(chunk);
      kept += chunk.length;
    });
    stream.on('end', () => finish());
    stream.on('error', (error: Error) => finish(error));
  });
}

function phases(timings: Timings | undefined): Record<string, number | undefined> {
  return timings ? { ...timings.phases } : {};
}
