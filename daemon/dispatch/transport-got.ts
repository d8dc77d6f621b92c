import got, { type Got, type Response } from 'got';
import type { PluginDefinition, TransportRequest, TransportResult } from '../../plugins/contract.js';
import { BodyCut } from './transport.js';

/** A consumer's got instance: its options merged once, not on every request. */
interface Client {
  lookup: TransportRequest['lookup'];
  timeout: number;
  got: Got;
}

/**
 * One got instance per consumer, found by its agents; a new network guard (a reload) or timeout
 * makes a new one. Its default headers are none: the request carries them all.
 */
function clientOf(clients: WeakMap<object, Client>, request: TransportRequest): Got {
  let client = clients.get(request.agents);
  if (client === undefined || client.lookup !== request.lookup || client.timeout !== request.timeout) {
    client = {
      lookup: request.lookup,
      timeout: request.timeout,
      got: got.extend({
        timeout: { request: request.timeout },
        followRedirect: false,
        throwHttpErrors: false,
        retry: { limit: 0 },
        decompress: false,
        agent: request.agents,
        dnsLookup: request.lookup,
      }),
    };
    clients.set(request.agents, client);
  }
  return client.got;
}

/** One request on a got stream, its body read up to maxResponseBytes. */
function send(clients: WeakMap<object, Client>, request: TransportRequest): Promise<TransportResult> {
  return new Promise((resolve) => {
    const stream = clientOf(clients, request).stream(request.url, {
      method: request.method,
      body: request.body,
      headers: request.headers,
    });
    let response: Response | undefined;
    const body = new BodyCut(request.maxResponseBytes);
    let settled = false;
    // Called without an error once the body ended or was cut at maxResponseBytes.
    const finish = (error?: Error & { code?: string; timings?: Response['timings'] }) => {
      if (settled) return;
      settled = true;
      const timings = response?.timings ?? error?.timings;
      resolve({
        timings: timings ? { ...timings.phases } : {},
        steps: timings,
        response: response && { statusCode: response.statusCode, headers: response.headers, ...body.result() },
        error,
      });
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
}

export const gotTransport: PluginDefinition<'transport'> = {
  name: 'got',
  kind: 'transport',
  description:
    'The default transport: each request on a got stream, with got merged once per consumer (its agents, the ' +
    "network policy's lookup, the timeout). Redirects are not followed, bodies are not decompressed, and got " +
    'retries nothing (the retry plugin does).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  example: 'delivery:\n  transport: got',
  create() {
    const clients = new WeakMap<object, Client>();
    return { send: (request) => send(clients, request) };
  },
};
