import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** Decides the answer to each request; the default answers 200. */
export type Responder = (
  request: Received,
  index: number,
) => { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  /** The distinct `webhook-id`s received so far: an at-least-once delivery may repeat a request. */
  webhookIds: Set<string>;
  /** Resolves once `count` distinct webhook-ids have arrived (rejects after `timeoutMs`). */
  waitForDistinct(count: number, timeoutMs?: number): Promise<Set<string>>;
  respond: Responder;
  /** Most requests open at the same time so far. */
  maxOpen: number;
}

/** A real HTTP server on 127.0.0.1 that records every request it gets. */
export async function startReceiver(t: Test, respond: Responder = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const webhookIds = new Set<string>();
  const waiters: { count: number; distinct: boolean; resolve: () => void }[] = [];
  const reached = (count: number, distinct: boolean) => (distinct ? webhookIds.size : received.length) >= count;
  const wait = <T>(count: number, distinct: boolean, timeoutMs: number, value: T): Promise<T> => {
    if (reached(count, distinct)) return Promise.resolve(value);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const got = distinct
          ? `${webhookIds.size} of ${count} distinct webhook-ids`
          : `${received.length} of ${count} requests`;
        reject(new Error(`receiver got ${got} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push({
        count,
        distinct,
        resolve: () => {
          clearTimeout(timer);
          resolve(value);
        },
      });
    });
  };
  const delayed = new Set<NodeJS.Timeout>();
  const receiver: Receiver = {
    url: '',
    received,
    respond,
    maxOpen: 0,
    waitFor: (count, timeoutMs = 20_000) => wait(count, false, timeoutMs, received),
    webhookIds,
    waitForDistinct: (count, timeoutMs = 20_000) => wait(count, true, timeoutMs, webhookIds),
  };
  let open = 0;
  const server = http.createServer((req, res) => {
    open += 1;
    receiver.maxOpen = Math.max(receiver.maxOpen, open);
    res.on('close', () => (open -= 1));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const answer = receiver.respond(request, received.length);
      received.push(request);
      const webhookId = req.headers['webhook-id'];
      if (typeof webhookId === 'string') webhookIds.add(webhookId);
      for (const waiter of waiters.filter((w) => reached(w.count, w.distinct))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const send = () => {
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) {
        const timer = setTimeout(() => {
          delayed.delete(timer);
          send();
        }, answer.delayMs);
        delayed.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => {
    delayed.forEach(clearTimeout);
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return receiver;
}

/** `count` receivers answering 200. */
export function startReceivers(t: Test, count: number): Promise<Receiver[]> {
  return Promise.all(Array.from({ length: count }, () => startReceiver(t)));
}
