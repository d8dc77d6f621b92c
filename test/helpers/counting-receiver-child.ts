/**
 * A webhook receiver in a process of its own (see counting-receiver.ts) for runs too long to
 * keep every request: it knows the event ids to expect (`prefix` then 0…count-1) and keeps one
 * byte per (path, event), so a soak of a million deliveries costs it a few megabytes. It
 * answers 500 to one request in `failEvery`, always to an event's first request, so that each
 * failed event has exactly one retry to make and a missing pair means a lost one. It checks
 * every signature with the path's secret and that a retry keeps the webhook-id of the request
 * that failed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { ReadyMessage } from './forked-child.js';

export interface CountingSetup {
  /** Path → signing secret; one path per consumer. */
  secrets: Record<string, string>;
  prefix: string;
  count: number;
  /** One request in this many is answered 500; 0 answers 200 to all. */
  failEvery: number;
}

export interface CountingSummary {
  requests: number;
  /** Requests answered 500. */
  failed: number;
  /** Distinct events answered 200. */
  delivered: number;
  /** Requests for an event already answered 200. */
  duplicates: number;
  /** Retries whose webhook-id differed from the failed request's. */
  unstable: number;
  unverified: number;
  /** Requests whose event id was not one of the expected ones. */
  unexpected: number;
  /** The first 20 expected events never answered 200. */
  missing: string[];
}

export type CountingCommand = { type: 'setup'; setup: CountingSetup } | { type: 'summary' };
export type CountingReply =
  ReadyMessage | { type: 'set up' } | { type: 'summary'; paths: Record<string, CountingSummary> };

/** Per event, in a path's byte array. */
const FAILED = 1;
const DELIVERED = 2;

interface PathRecord {
  verifier: Webhook;
  states: Uint8Array;
  /** webhook-id of each failed event until its retry arrives. */
  failedIds: Map<number, string>;
  counts: Omit<CountingSummary, 'missing'>;
}

let setup: CountingSetup | undefined;
const paths = new Map<string, PathRecord>();
let requests = 0;
/** Failures due (one per `failEvery` requests) and not yet answered: only a first request may take one. */
let failuresOwed = 0;

/** The answer's status. */
function record(path: string, headers: http.IncomingHttpHeaders, body: string): number {
  const entry = paths.get(path);
  if (setup === undefined || entry === undefined) return 404;
  const { counts, states } = entry;
  counts.requests += 1;
  requests += 1;
  if (setup.failEvery > 0 && requests % setup.failEvery === 0) failuresOwed += 1;
  try {
    entry.verifier.verify(body, headers as Record<string, string>);
  } catch {
    counts.unverified += 1;
  }
  let eventId = '';
  try {
    eventId = String(JSON.parse(body).id);
  } catch {
    // counted as unexpected below
  }
  const n = eventId.startsWith(setup.prefix) ? Number(eventId.slice(setup.prefix.length)) : NaN;
  if (!Number.isInteger(n) || n < 0 || n >= setup.count) {
    counts.unexpected += 1;
    return 200;
  }
  const webhookId = String(headers['webhook-id']);
  if (states[n] === 0 && failuresOwed > 0) {
    failuresOwed -= 1;
    states[n] = FAILED;
    entry.failedIds.set(n, webhookId);
    counts.failed += 1;
    return 500;
  }
  if (states[n] === DELIVERED) {
    counts.duplicates += 1;
  } else {
    if (states[n] === FAILED && entry.failedIds.get(n) !== webhookId) counts.unstable += 1;
    entry.failedIds.delete(n);
    states[n] = DELIVERED;
    counts.delivered += 1;
  }
  return 200;
}

function summary(entry: PathRecord): CountingSummary {
  const missing: string[] = [];
  for (let n = 0; n < entry.states.length && missing.length < 20; n++) {
    if (entry.states[n] !== DELIVERED) missing.push(`${setup!.prefix}${n}`);
  }
  return { ...entry.counts, missing };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const status = record(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'));
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? 'ok' : 'try again');
  });
});
server.keepAliveTimeout = 60_000;

const reply = (message: CountingReply) => process.send?.(message);

process.on('message', (command: CountingCommand) => {
  if (command.type === 'setup') {
    setup = command.setup;
    for (const [path, secret] of Object.entries(setup.secrets)) {
      paths.set(path, {
        verifier: new Webhook(secret),
        states: new Uint8Array(setup.count),
        failedIds: new Map(),
        counts: { requests: 0, failed: 0, delivered: 0, duplicates: 0, unstable: 0, unverified: 0, unexpected: 0 },
      });
    }
    reply({ type: 'set up' });
  } else {
    reply({ type: 'summary', paths: Object.fromEntries([...paths].map(([path, entry]) => [path, summary(entry)])) });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () =>
  reply({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
);
