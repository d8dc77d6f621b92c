/**
 * The benchmark's webhook receiver, run in its own process (`fork`): a node:http server on
 * 127.0.0.1 that answers after a configurable delay and records, per path, how many requests
 * arrived, when the first and last did, and how long after publishing each one arrived (the
 * publisher puts its clock reading in the payload as `sentAt`).
 *
 * Parent → child: {type: 'configure', delayMs, failPaths} | {type: 'reset'} | {type: 'count'} | {type: 'report'}.
 * Child → parent: {type: 'ready', url} | {type: 'count', total} (successful requests) |
 * {type: 'report', paths, latencies}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PathReport {
  count: number;
  failed: number;
  firstAt: number;
  lastAt: number;
  /** Publish-to-delivery latencies in ms of the successful requests, warm-up events left out. */
  latencies: number[];
}

export type ReceiverCommand =
  | { type: 'configure'; delayMs: number; failPaths: string[] }
  | { type: 'reset' }
  | { type: 'count' }
  | { type: 'report' };
export type ReceiverReply =
  | { type: 'ready'; url: string }
  | { type: 'count'; total: number }
  | { type: 'report'; paths: Record<string, PathReport> };

const SENT_AT = /"sentAt":([0-9.]+)/;
/** Warm-up events count as deliveries, but their latency is not recorded. */
const WARMUP = '"warmup":true';
const now = () => performance.timeOrigin + performance.now();

let delayMs = 0;
let failPaths = new Set<string>();
let paths = new Map<string, PathReport>();
let total = 0;

function record(path: string, body: string, failed: boolean): void {
  const at = now();
  let entry = paths.get(path);
  if (entry === undefined) {
    entry = { count: 0, failed: 0, firstAt: at, lastAt: at, latencies: [] };
    paths.set(path, entry);
  }
  entry.lastAt = at;
  if (failed) {
    entry.failed += 1;
    return;
  }
  entry.count += 1;
  total += 1;
  if (body.includes(WARMUP)) return;
  const sentAt = SENT_AT.exec(body);
  if (sentAt !== null) entry.latencies.push(at - Number(sentAt[1]));
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const path = req.url ?? '/';
    const failed = failPaths.has(path);
    const answer = () => {
      res.writeHead(failed ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(failed ? 'failing on purpose' : 'ok');
    };
    // Recorded when the request has arrived in full, before the answer's delay.
    record(path, Buffer.concat(chunks).toString('utf8'), failed);
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;

function reply(message: ReceiverReply): void {
  process.send?.(message);
}

process.on('message', (command: ReceiverCommand) => {
  switch (command.type) {
    case 'configure':
      delayMs = command.delayMs;
      failPaths = new Set(command.failPaths);
      break;
    case 'reset':
      paths = new Map();
      total = 0;
      break;
    case 'count':
      reply({ type: 'count', total });
      break;
    case 'report':
      reply({ type: 'report', paths: Object.fromEntries(paths) });
      break;
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () =>
  reply({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
);
