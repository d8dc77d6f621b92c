/**
 * A webhook receiver in a process of its own (see receiver-process.ts), so that a test's
 * publishing does not slow the receiving down: a node:http server on 127.0.0.1 answering 200
 * to every request and keeping, per path, which event ids arrived with which webhook-id, how
 * many requests repeated one, changed its webhook-id or failed the signature check (with the
 * path's secret), and when each request arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface PathSummary {
  requests: number;
  distinct: number;
  duplicates: number;
  unstable: number;
  unverified: number;
}

export type ReceiverChildCommand =
  | { type: 'secrets'; secrets: Record<string, string> }
  | { type: 'summary'; expect?: { prefix: string; count: number } }
  | { type: 'times' };
export type ReceiverChildReply =
  | { type: 'ready'; url: string }
  | { type: 'summary'; paths: Record<string, PathSummary & { missing: string[] }> }
  | { type: 'times'; times: number[] };

interface PathRecord extends PathSummary {
  webhookIds: Map<string, string>;
}

const verifiers = new Map<string, Webhook>();
const paths = new Map<string, PathRecord>();
const times: number[] = [];

function record(path: string, headers: http.IncomingHttpHeaders, body: string): void {
  times.push(Date.now());
  let entry = paths.get(path);
  if (entry === undefined) {
    entry = { requests: 0, distinct: 0, duplicates: 0, unstable: 0, unverified: 0, webhookIds: new Map() };
    paths.set(path, entry);
  }
  entry.requests += 1;
  let eventId = '';
  try {
    eventId = String(JSON.parse(body).id);
  } catch {
    entry.unverified += 1;
  }
  const webhookId = String(headers['webhook-id']);
  const seen = entry.webhookIds.get(eventId);
  if (seen === undefined) {
    entry.webhookIds.set(eventId, webhookId);
    entry.distinct += 1;
  } else {
    entry.duplicates += 1;
    if (seen !== webhookId) entry.unstable += 1;
  }
  try {
    verifiers.get(path)?.verify(body, headers as Record<string, string>);
  } catch {
    entry.unverified += 1;
  }
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    record(req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;

const reply = (message: ReceiverChildReply) => process.send?.(message);

process.on('message', (command: ReceiverChildCommand) => {
  if (command.type === 'secrets') {
    for (const [path, secret] of Object.entries(command.secrets)) verifiers.set(path, new Webhook(secret));
  } else if (command.type === 'times') {
    reply({ type: 'times', times });
  } else {
    const summary = Object.fromEntries(
      [...paths].map(([path, { webhookIds, ...counts }]) => {
        const { prefix, count } = command.expect ?? { prefix: '', count: 0 };
        const missing = Array.from({ length: count }, (_, n) => `${prefix}${n}`).filter((id) => !webhookIds.has(id));
        return [path, { ...counts, missing: missing.slice(0, 20) }];
      }),
    );
    reply({ type: 'summary', paths: summary });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () =>
  reply({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
);
