import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { PluginDefinition, TransportRequest, TransportResult } from '../../plugins/contract.js';
import type { RequestError, StepTimes } from './attempt-failure.js';
import { BodyCut } from './transport.js';

/** When each step of one request happened (Date.now() ms, as got's timings are), unset until it did. */
interface Steps extends StepTimes {
  start: number;
  socket?: number;
  lookup?: number;
  end?: number;
}

/** got's phases, from the same steps: a reused socket has no dns, tcp or tls time. */
function phases(steps: Steps, endedAt: number): Record<string, number | undefined> {
  const since = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? undefined : to - from;
  const connected = steps.secureConnect ?? steps.connect;
  return {
    wait: since(steps.start, steps.socket),
    dns: since(steps.socket, steps.lookup),
    tcp: since(steps.lookup, steps.connect),
    tls: since(steps.connect, steps.secureConnect),
    request: since(connected, steps.upload),
    firstByte: since(steps.upload, steps.response),
    download: since(steps.response, steps.end),
    total: endedAt - steps.start,
  };
}

/**
 * Times the socket's steps. A socket taken from the agent's pool is connected already: its
 * lookup, connect and handshake count as done when the request got it.
 */
function watchSocket(request: ClientRequest, steps: Steps, secure: boolean, uploaded: () => boolean): void {
  request.once('socket', (socket: Socket) => {
    const now = Date.now();
    steps.socket = now;
    const connected = () => {
      // The body may be handed to the socket before it connects: it is sent once it has.
      if (uploaded() && steps.upload === undefined) steps.upload = Date.now();
    };
    if (!socket.connecting) {
      steps.lookup = steps.connect = now;
      if (secure) steps.secureConnect = now;
      connected();
      return;
    }
    socket.once('lookup', () => (steps.lookup = Date.now()));
    socket.once('connect', () => {
      steps.connect = Date.now();
      // An IP literal is not looked up.
      steps.lookup ??= steps.connect;
      if (!secure) connected();
    });
    if (secure) {
      socket.once('secureConnect', () => {
        steps.secureConnect = Date.now();
        connected();
      });
    }
  });
}

/**
 * The request on node:http(s) alone, with the consumer's agents (keep-alive sockets, TLS files)
 * and the guard's lookup. The consumer's timeout covers the whole request, and its errors read
 * as got's (attempt-failure.ts).
 */
const send = (request: TransportRequest): Promise<TransportResult> =>
  new Promise((resolve) => {
    const secure = request.url.slice(0, 6).toLowerCase() === 'https:';
    const steps: Steps = { start: Date.now() };
    const body = new BodyCut(request.maxResponseBytes);
    let response: { statusCode: number; headers: IncomingMessage['headers'] } | undefined;
    let settled = false;
    let sent = false;
    let req: ClientRequest | undefined;
    // Called without an error once the body ended or was cut at maxResponseBytes.
    const finish = (error?: RequestError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endedAt = Date.now();
      if (error === undefined) steps.end = endedAt;
      resolve({
        timings: phases(steps, endedAt),
        steps,
        response: response && { ...response, ...body.result() },
        error,
      });
    };
    const timer = setTimeout(() => {
      const error: RequestError = Object.assign(new Error(`Timeout awaiting 'request' for ${request.timeout}ms`), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      });
      finish(error);
      req?.destroy();
    }, request.timeout);
    // Like got's: the process does not stay up for a request alone.
    timer.unref();
    const payload = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
    const onResponse = (res: IncomingMessage) => {
      steps.response = Date.now();
      response = { statusCode: res.statusCode ?? 0, headers: res.headers };
      res.on('data', (chunk: Buffer) => {
        if (!body.add(chunk)) return;
        finish();
        req?.destroy();
      });
      res.on('end', () => finish());
      // The connection broke before the body's end: in got's words.
      const aborted = () =>
        finish(Object.assign(new Error('The server aborted pending request'), { code: 'ECONNRESET' }));
      res.on('error', aborted);
      res.on('close', () => {
        if (!res.complete) aborted();
      });
    };
    try {
      req = (secure ? https : http).request(
        request.url,
        {
          method: request.method,
          agent: secure ? request.agents.https : request.agents.http,
          lookup: request.lookup,
          headers: { 'content-length': payload.length, ...request.headers },
        },
        onResponse,
      );
    } catch (error) {
      // A header value node refuses (ERR_INVALID_CHAR): nothing was sent.
      finish(error as RequestError);
      return;
    }
    watchSocket(req, steps, secure, () => sent);
    req.on('error', (error: RequestError) => finish(error));
    req.once('finish', () => {
      sent = true;
      const connected = secure ? steps.secureConnect : steps.connect;
      if (connected !== undefined) steps.upload = Date.now();
    });
    req.end(payload);
  });

export const nodeTransport: PluginDefinition<'transport'> = {
  name: 'node',
  kind: 'transport',
  description:
    'Each request on node:http and node:https alone, with the same timeout, response cut, network checks, TLS ' +
    "files and timings as got, for about half got's CPU per delivery (BENCHMARKS.md).",
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  example: 'delivery:\n  transport: node',
  create: () => ({ send }),
};
