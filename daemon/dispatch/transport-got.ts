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

/**
 * got's phases, but none of dns, tcp and tls on a kept socket. got (14.6) gives a request on a
 * kept socket the dns and tcp (and tls) time of the connection it reuses, timed when that one
 * opened, while it sets their steps to the moment the request got the socket; this request spent
 * no time on them, as the node transport says, and with them its phases would not fit in its total.
 */
function phasesOf(timings: Response['timings']): Record<string, number | undefined> {
  const phases: Record<string, number | undefined> = { ...timings.phases };
  const kept = timings.socket !== undefined && timings.lookup === timings.socket && timings.connect === timings.socket;
  if (kept) {
    phases.dns = 0;
    phases.tcp = 0;
    if (timings.secureConnect === timings.socket) phases.tls = 0;
  }
  return phases;
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
        timings: timings ? phasesOf(timings) : {},
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
