/**
 * A delivery worker thread (delivery-pool.ts starts it): sends the requests the main thread
 * hands it with `sendHttp`, the same code as the main-thread path, and answers each one's
 * outcome. It holds its own agents per consumer, its own network guard built from the same
 * settings and its own instance of the transport (loaded from the same module with the same
 * options); it signs nothing, reads no secret and writes no log.
 */
import http from 'node:http';
import https from 'node:https';
import { parentPort } from 'node:worker_threads';
import type { TlsFiles } from './consumer.js';
import { sendHttp, type HttpOutcome, type HttpRequest, type HttpTarget } from './http-attempt.js';
import { NetworkGuard } from './network-guard.js';
import { loadTransport, type LoadedTransport, type TransportSource } from './transport-loader.js';

/** What the main thread tells a worker; ids are the pool's own numbers for consumers, guards and transports. */
export type ToWorker =
  | { kind: 'guard'; id: number; allowPrivate: boolean; allowCidrs: readonly string[] }
  | { kind: 'consumer'; id: number; timeout: number; concurrency: number; tls: TlsFiles }
  | { kind: 'transport'; id: number; source: TransportSource }
  | { kind: 'forget'; id: number }
  | {
      kind: 'send';
      seq: number;
      consumer: number;
      guard: number;
      request: Omit<HttpRequest, 'body'> & { body: string | Uint8Array };
      maxResponseBytes: number;
      transport: number;
    };

const consumers = new Map<number, HttpTarget>();
const guards = new Map<number, NetworkGuard>();
/** Loaded and started, or why not (a module that loads on the main thread and not in a worker). */
const transports = new Map<number, Promise<LoadedTransport | Error>>();

async function loadStarted({ use, options, configDir }: TransportSource): Promise<LoadedTransport | Error> {
  try {
    const transport = await loadTransport({ use, options: { ...options } }, { configDir }, () => 'delivery.transport');
    await transport.instance.start?.();
    return transport;
  } catch (error) {
    return error as Error;
  }
}

/** A reload's new transport replaces the one before the last: requests already sent may still use that. */
function dropOlderTransports(): void {
  const ids = [...transports.keys()].sort((a, b) => a - b);
  for (const id of ids.slice(0, -2)) {
    void transports.get(id)!.then((loaded) => loaded instanceof Error || loaded.instance.stop?.());
    transports.delete(id);
  }
}

function handle(message: ToWorker): void {
  switch (message.kind) {
    case 'guard':
      // The pool sends each guard once and a reload replaces it: older ones only serve requests already sent.
      guards.set(message.id, new NetworkGuard({ allowPrivate: message.allowPrivate, allowCidrs: message.allowCidrs }));
      for (const id of guards.keys()) if (id < message.id - 1) guards.delete(id);
      return;
    case 'transport':
      transports.set(message.id, loadStarted(message.source));
      dropOlderTransports();
      return;
    case 'consumer': {
      const { concurrency, tls } = message;
      const options = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
      const agent = { http: new http.Agent(options), https: new https.Agent({ ...options, ...tls }) };
      consumers.set(message.id, { timeout: message.timeout, agent, tls });
      return;
    }
    case 'forget': {
      const target = consumers.get(message.id);
      consumers.delete(message.id);
      target?.agent.http.destroy();
      target?.agent.https.destroy();
      return;
    }
    case 'send':
      void send(message).then((outcome) => parentPort!.postMessage({ seq: message.seq, outcome }));
      return;
  }
}

async function send(message: Extract<ToWorker, { kind: 'send' }>): Promise<HttpOutcome> {
  const target = consumers.get(message.consumer);
  const guard = guards.get(message.guard);
  const transport = await transports.get(message.transport);
  // The pool sends a consumer, a guard and a transport before their first request.
  const missing =
    (target === undefined && 'unknown consumer') ||
    (guard === undefined && 'unknown network guard') ||
    (transport === undefined && 'unknown transport') ||
    (transport instanceof Error && `the transport did not load here: ${transport.message}`);
  if (missing)
    return {
      durationMs: 0,
      timings: {},
      outcome: 'failure',
      errorClass: 'connect',
      error: `delivery worker: ${missing}`,
    };
  const { body: sent } = message.request;
  const body = typeof sent === 'string' ? sent : Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength);
  const request = { ...message.request, body };
  const outcome = await sendHttp(target!, request, message.maxResponseBytes, guard!, transport as LoadedTransport);
  if (outcome.response !== undefined) outcome.response.headers = { ...outcome.response.headers };
  return outcome;
}

parentPort!.on('message', handle);
// Its modules (got among them) are loaded: the pool waits for this before hooksd is ready.
parentPort!.postMessage({ ready: true });
