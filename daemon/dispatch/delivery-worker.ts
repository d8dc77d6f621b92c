/**
 * A delivery worker thread (delivery-pool.ts starts it): sends the requests the main thread
 * hands it with `sendHttp`, the same code as the main-thread path, and answers each one's
 * outcome, on the transport the main thread names. It holds its own agents per consumer, and its own network guard
 * built from the same settings; it signs nothing, reads no secret and writes no log.
 */
import http from 'node:http';
import https from 'node:https';
import { parentPort } from 'node:worker_threads';
import type { TlsFiles } from './consumers.js';
import { sendHttp, type HttpRequest, type HttpTarget, type TransportName } from './http-attempt.js';
import { NetworkGuard } from './network-guard.js';

/** What the main thread tells a worker; ids are the pool's own numbers for consumers and guards. */
export type ToWorker =
  | { kind: 'guard'; id: number; allowPrivate: boolean; allowCidrs: readonly string[] }
  | { kind: 'consumer'; id: number; timeout: number; concurrency: number; tls: TlsFiles }
  | { kind: 'forget'; id: number }
  | {
      kind: 'send';
      seq: number;
      consumer: number;
      guard: number;
      request: Omit<HttpRequest, 'body'> & { body: string | Uint8Array };
      maxResponseBytes: number;
      transport: TransportName;
    };

const consumers = new Map<number, HttpTarget>();
const guards = new Map<number, NetworkGuard>();

function handle(message: ToWorker): void {
  switch (message.kind) {
    case 'guard':
      // The pool sends each guard once and a reload replaces it: older ones only serve requests already sent.
      guards.set(message.id, new NetworkGuard({ allowPrivate: message.allowPrivate, allowCidrs: message.allowCidrs }));
      for (const id of guards.keys()) if (id < message.id - 1) guards.delete(id);
      return;
    case 'consumer': {
      const { concurrency, tls } = message;
      const options = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
      const agent = { http: new http.Agent(options), https: new https.Agent({ ...options, ...tls }) };
      consumers.set(message.id, { timeout: message.timeout, agent });
      return;
    }
    case 'forget': {
      const target = consumers.get(message.id);
      consumers.delete(message.id);
      target?.agent.http.destroy();
      target?.agent.https.destroy();
      return;
    }
    case 'send': {
      const { seq, request } = message;
      const target = consumers.get(message.consumer);
      const guard = guards.get(message.guard);
      if (target === undefined || guard === undefined) {
        // The pool sends a consumer and a guard before their first request: this is a bug in it.
        const error = `delivery worker: unknown ${target === undefined ? 'consumer' : 'network guard'}`;
        parentPort!.postMessage({
          seq,
          outcome: { durationMs: 0, timings: {}, outcome: 'failure', errorClass: 'connect', error },
        });
        return;
      }
      const { body: sent } = request;
      const body = typeof sent === 'string' ? sent : Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength);
      void sendHttp(target, { ...request, body }, message.maxResponseBytes, guard, message.transport).then(
        (outcome) => {
          if (outcome.response !== undefined) outcome.response.headers = { ...outcome.response.headers };
          parentPort!.postMessage({ seq, outcome });
        },
      );
      return;
    }
  }
}

parentPort!.on('message', handle);
// Its modules (got among them) are loaded: the pool waits for this before hooksd is ready.
parentPort!.postMessage({ ready: true });
