import type { TransportRequest, TransportResult } from '../../plugins/contract.js';
import type { NetworkGuard } from './network-guard.js';
import { DEFAULT_HEADERS, outcomeOf, type HttpOutcome, type HttpRequest, type HttpTarget } from './transport.js';
import type { LoadedTransport } from './transport-loader.js';

export type { HttpOutcome, HttpRequest, HttpTarget } from './transport.js';

/** How long past the consumer's timeout a transport may take to answer before hooksd stops waiting for it. */
export const TRANSPORT_GRACE_MS = 5_000;

/**
 * Sends one request on the consumer's transport (delivery.transport) and reads at most
 * `maxResponseBytes` of the answer (the rest is never read into memory). Never throws:
 * transport errors come back as a failed outcome with their error class (attempt-failure.ts).
 * The guard checks the address before connecting: an IP literal here, a hostname's resolved
 * addresses in its lookup, whose answer is the address the socket then connects to. A custom
 * transport is held to its contract: one that throws, answers nonsense or never answers
 * fails the attempt with a message naming it, and a body longer than maxResponseBytes is cut.
 */
export async function sendHttp(
  consumer: HttpTarget,
  request: HttpRequest,
  maxResponseBytes: number,
  guard: NetworkGuard,
  transport: LoadedTransport,
): Promise<HttpOutcome> {
  const started = performance.now();
  const refused = guard.checkUrl(request.url);
  if (refused !== null)
    return { durationMs: 0, timings: {}, outcome: 'failure', errorClass: 'blocked', error: refused };
  const sent: TransportRequest = {
    method: request.method,
    url: request.url,
    headers: { ...DEFAULT_HEADERS, ...request.headers },
    body: request.body,
    timeout: consumer.timeout,
    maxResponseBytes,
    agents: consumer.agent,
    tls: consumer.tls,
    lookup: guard.lookup,
  };
  const context = { started, timeoutMs: consumer.timeout, https: /^https:/i.test(request.url) };
  const answer = transport.builtIn ? await transport.instance.send(sent) : await answerOf(transport, sent);
  if (typeof answer === 'string')
    return {
      durationMs: Math.round(performance.now() - started),
      timings: {},
      outcome: 'failure',
      errorClass: answer.startsWith('no answer') ? 'timeout' : 'connect',
      error: `transport "${transport.name}": ${answer}`,
    };
  return outcomeOf(answer, context);
}

/** The transport's result, or what was wrong with it. */
async function answerOf(transport: LoadedTransport, request: TransportRequest): Promise<TransportResult | string> {
  let timer: NodeJS.Timeout | undefined;
  const limit = request.timeout + TRANSPORT_GRACE_MS;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${limit} ms (the timeout and ${TRANSPORT_GRACE_MS} ms)`), limit);
    timer.unref();
  });
  try {
    const answer = await Promise.race([transport.instance.send(request), late]);
    if (typeof answer === 'string') return answer;
    return malformed(answer) ?? cut(answer, request.maxResponseBytes);
  } catch (error) {
    return `send() threw: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** What is wrong with a result a transport answered, if anything. */
function malformed(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return 'send() answered no result object';
  const { response, error } = result as TransportResult;
  if (error !== undefined && !(error instanceof Error)) return 'its `error` is not an Error';
  if (response === undefined) return error === undefined ? 'it answered neither a response nor an error' : undefined;
  const { statusCode, headers, body } = response;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599)
    return `its response's statusCode ${JSON.stringify(statusCode)} is not an HTTP status`;
  if (typeof headers !== 'object' || headers === null) return "its response's headers are not an object";
  if (typeof body !== 'string') return "its response's body is not a string";
  return undefined;
}

/** The result with its response body held to maxResponseBytes, whatever the transport read. */
function cut(result: TransportResult, maxResponseBytes: number): TransportResult {
  const { response } = result;
  if (response === undefined || Buffer.byteLength(response.body) <= maxResponseBytes) return result;
  const body = Buffer.from(response.body).subarray(0, maxResponseBytes).toString('utf8');
  return { ...result, response: { ...response, body, truncated: true } };
}
