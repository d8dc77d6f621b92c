import got, { type Got, type Response } from 'got';
import type { RequestError } from './attempt-failure.js';
import type { NetworkGuard } from './network-guard.js';
import { BodyCut, DEFAULT_HEADERS, outcomeOf, type HttpTarget, type Transport } from './transport.js';

const HTTPS = /^https:/i;

/** A consumer's got instance: its options merged once, not on every request. */
interface Client {
  guard: NetworkGuard;
  got: Got;
}

/** One got instance per consumer (and network guard: both are replaced as a whole on reload). */
const clients = new WeakMap<HttpTarget, Client>();

function clientOf(consumer: HttpTarget, guard: NetworkGuard): Got {
  let client = clients.get(consumer);
  if (client === undefined || client.guard !== guard) {
    client = {
      guard,
      got: got.extend({
        headers: DEFAULT_HEADERS,
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

/** The default transport (`delivery.transport: got`): a got stream per request. */
export const sendGot: Transport = (consumer, request, maxResponseBytes, guard, started) =>
  new Promise((resolve) => {
    const stream = clientOf(consumer, guard).stream(request.url, {
      method: request.method,
      body: request.body,
      headers: request.headers,
    });
    let response: Response | undefined;
    const body = new BodyCut(maxResponseBytes);
    let settled = false;
    // Called without an error once the body ended or was cut at maxResponseBytes.
    const finish = (error?: RequestError & { timings?: Response['timings'] }) => {
      if (settled) return;
      settled = true;
      const timings = response?.timings ?? error?.timings;
      resolve(
        outcomeOf({
          started,
          timings: timings ? { ...timings.phases } : {},
          response: response && { statusCode: response.statusCode, headers: response.headers, body },
          error,
          timeoutMs: consumer.timeout,
          https: HTTPS.test(request.url),
        }),
      );
    };
    stream.on('response', (r: Response) => (response = r));
    stream.on('data', (chunk: Buffer) => {
      if (!body.add(chunk)) return;
      stream.destroy();
      finish();
    });
    stream.on('end', () => finish());
    stream.on('error', (error: Error) => finish(error));
  });
