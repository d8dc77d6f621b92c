import type { NetworkGuard } from './network-guard.js';
import type { HttpOutcome, HttpRequest, HttpTarget, Transport, TransportName } from './transport.js';
import { sendGot } from './transport-got.js';
import { sendNode } from './transport-node.js';

export type { HttpOutcome, HttpRequest, HttpTarget, TransportName } from './transport.js';

const TRANSPORTS: Record<TransportName, Transport> = { got: sendGot, node: sendNode };

/**
 * Sends one request on the transport `delivery.transport` names and reads at most
 * `maxResponseBytes` of the answer (the rest is never read into memory). Never throws:
 * transport errors come back as a failed outcome with their error class (attempt-failure.ts).
 * The guard checks the address before connecting: an IP literal here, a hostname's resolved
 * addresses in its lookup, whose answer is the address the socket then connects to
 * (transport.ts says what each transport keeps).
 */
export function sendHttp(
  consumer: HttpTarget,
  request: HttpRequest,
  maxResponseBytes: number,
  guard: NetworkGuard,
  transport: TransportName,
): Promise<HttpOutcome> {
  const started = performance.now();
  const refused = guard.checkUrl(request.url);
  if (refused !== null)
    return Promise.resolve({ durationMs: 0, timings: {}, outcome: 'failure', errorClass: 'blocked', error: refused });
  return TRANSPORTS[transport](consumer, request, maxResponseBytes, guard, started);
}
