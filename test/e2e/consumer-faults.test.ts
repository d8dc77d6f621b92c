import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeCerts } from '../helpers/certs.js';
import {
  dribblingHeaders,
  endlessBody,
  hugeBody,
  neverReads,
  resetMidBody,
  silentTls,
  type FaultyConsumer,
} from '../helpers/faulty-consumers.js';
import { startGateway, type Gateway } from '../helpers/gateway.js';
import { eventually, tempDir, type Api } from '../helpers/hooksd.js';
import { startReceiver } from '../helpers/receiver.js';

/** The faulty consumer's timeout; the healthy one keeps the default (15 s). */
const TIMEOUT_MS = 5000;
/** Events both consumers get, then events only the healthy one gets while the fault lasts. */
const FAULT_EVENTS = 3;
const OTHER_EVENTS = 5;
const MIB = 1024 * 1024;

interface Faulted {
  gateway: Gateway;
  /** The ids of the events published, each to be delivered or in its schedule at the end. */
  faultEventIds: string[];
  otherEventIds: string[];
  /** The faulty consumer's messages and the first attempt of each, once all were attempted. */
  attempts: any[];
  /** Whether none of the faulty consumer's attempts had ended when the healthy one had all its events. */
  healthyDuringFault: boolean;
  /** The slowest of the healthy consumer's OTHER_EVENTS, from publishing to arrival. */
  healthyLatencyMs: number;
  /** When the test saw every faulty attempt recorded (an upper bound of when they ended). */
  recordedAt: number;
}

/**
 * hooksd with the faulty consumer (`fault.sent` events, a 5 s timeout, a first try at once and
 * the next in an hour) beside a healthy one (every event). The faulty one is sent
 * FAULT_EVENTS events; once it holds their connections, the healthy one is sent OTHER_EVENTS
 * more, which must all arrive while the faulty attempts are still running.
 */
async function underFault(
  t: Test,
  faulty: FaultyConsumer,
  consumer: Record<string, unknown> = {},
  config: {
    /** Config keys beside eventTypes and consumers; `delivery.network` allows loopback unless given. */
    settings?: { delivery?: Record<string, unknown>; pipeline?: unknown[] };
    dir?: string;
    beforeEvents?: (gateway: Gateway) => void;
  } = {},
): Promise<Faulted> {
  const healthy = await startReceiver(t);
  const gateway = await startGateway(
    t,
    {
      eventTypes: [{ name: 'fault.sent' }, { name: 'other.sent' }],
      ...config.settings,
      delivery: { network: { allowCidrs: ['127.0.0.0/8'] }, ...config.settings?.delivery },
      consumers: [
        { id: 'faulty', url: faulty.url, eventTypes: ['fault.sent'], timeout: `${TIMEOUT_MS}ms`, ...consumer },
        { id: 'healthy', url: healthy.url },
      ],
    },
    { dir: config.dir },
  );
  const { api, publish } = gateway;
  config.beforeEvents?.(gateway);
  // A first try at once, the next an hour later: after the first, the message waits in its schedule.
  const faultEventIds = [];
  for (let i = 0; i < FAULT_EVENTS; i++) faultEventIds.push(await publish('fault.sent'));
  await faulty.waitForConnections(FAULT_EVENTS);
  const otherEventIds = [];
  for (let i = 0; i < OTHER_EVENTS; i++) otherEventIds.push(await publish('other.sent', { sentAt: Date.now() }));
  const received = await healthy.waitFor(FAULT_EVENTS + OTHER_EVENTS);
  const healthyLatencyMs = Math.max(
    ...received
      .map((r) => ({ at: r.at, sentAt: JSON.parse(r.body.toString()).payload.sentAt }))
      .filter((r) => r.sentAt !== undefined)
      .map((r) => r.at - r.sentAt),
  );
  const during = await messagesOf(api, 'faulty');
  const healthyDuringFault = during.length === FAULT_EVENTS && during.every((m) => m.attempts === 0);
  const messages = await eventually(
    async () => {
      const list = await messagesOf(api, 'faulty');
      return list.length === FAULT_EVENTS && list.every((m) => m.attempts > 0) ? list : undefined;
    },
    60_000,
    'an attempt of every faulty message',
  );
  const recordedAt = Date.now();
  const attempts = [];
  for (const message of messages) {
    const { body } = await api(`/v1/messages/${message.id}/attempts`);
    attempts.push({ message, ...body.data.at(-1) });
  }
  return { gateway, faultEventIds, otherEventIds, attempts, healthyDuringFault, healthyLatencyMs, recordedAt };
}

async function messagesOf(api: Api, consumerId: string): Promise<any[]> {
  const { status, body } = await api(`/v1/messages?consumerId=${consumerId}&limit=100`);
  if (status !== 200) throw new Error(`GET /v1/messages answered ${status}: ${JSON.stringify(body)}`);
  return body.data;
}

/** Each attempt failed with `errorClass` and `error`, cut by the 5 s timeout, while the healthy consumer was served. */
function stalled(t: Test, faulted: Faulted, errorClass: string, error: RegExp) {
  for (const attempt of faulted.attempts) {
    t.equal(attempt.outcome, 'failure');
    t.equal(attempt.errorClass, errorClass);
    t.match(attempt.error, error);
    t.ok(
      attempt.durationMs >= TIMEOUT_MS - 100 && attempt.durationMs <= 2 * TIMEOUT_MS,
      `ended by the ${TIMEOUT_MS} ms timeout (${attempt.durationMs} ms)`,
    );
  }
  isolated(t, faulted);
}

function isolated(t: Test, faulted: Faulted) {
  t.ok(
    faulted.healthyDuringFault,
    `the healthy consumer had all its events (slowest ${faulted.healthyLatencyMs} ms) while the faulty attempts ran`,
  );
}

/** Every event has its message for each consumer: delivered to the healthy one, as `expected` for the faulty one. */
async function nothingLost(t: Test, faulted: Faulted, expected: (message: any) => boolean, what: string) {
  const { api } = faulted.gateway;
  const eventIds = (messages: any[]) => messages.map((m) => m.eventId).sort();
  const healthy = await messagesOf(api, 'healthy');
  t.same(
    eventIds(healthy),
    [...faulted.faultEventIds, ...faulted.otherEventIds].sort(),
    'every event to the healthy one',
  );
  t.ok(
    healthy.every((m) => m.status === 'success'),
    'all delivered',
  );
  const faulty = await messagesOf(api, 'faulty');
  t.same(eventIds(faulty), [...faulted.faultEventIds].sort(), 'every fault.sent event to the faulty one');
  t.ok(faulty.every(expected), `every faulty message ${what}: ${JSON.stringify(faulty.map((m) => m.status))}`);
}

/** Attempted once, failed, and due again in about an hour (never less than 30 minutes with jitter). */
const inSchedule = (m: any) =>
  m.status === 'attempting' && m.attempts === 1 && Date.parse(m.nextAttemptAt) > Date.now() + 30 * 60_000;

/** Connections the server saw closed were closed by hooksd within twice the timeout. */
function closedInTime(t: Test, faulty: FaultyConsumer) {
  for (const c of faulty.connections)
    t.ok(
      c.closedAt !== undefined && c.closedAt - c.acceptedAt <= 2 * TIMEOUT_MS,
      `hooksd closed the connection ${c.closedAt === undefined ? 'never' : `after ${c.closedAt - c.acceptedAt} ms`}`,
    );
}

const retrySchedule = ['0s', '1h'];

t.test('consumer fault - headers dribbled one byte a second: a timeout', async (t) => {
  const faulty = await dribblingHeaders(t);
  const faulted = await underFault(t, faulty, { retrySchedule });
  stalled(t, faulted, 'timeout', /no complete response headers within 5000 ms/);
  t.ok(
    faulted.attempts.every((a) => a.response === undefined),
    'no response recorded',
  );
  closedInTime(t, faulty);
  await nothingLost(t, faulted, inSchedule, 'waits for its next try');
});

t.test('consumer fault - a 200 whose body never ends: a failed attempt, by timeout', async (t) => {
  const faulty = await endlessBody(t);
  const faulted = await underFault(t, faulty, { retrySchedule });
  stalled(t, faulted, 'timeout', /the response body did not end within 5000 ms/);
  for (const attempt of faulted.attempts) {
    t.equal(attempt.response.statusCode, 200, 'the status is kept');
    t.match(attempt.response.body, /^x+$/, 'and the body read so far');
  }
  closedInTime(t, faulty);
  await nothingLost(t, faulted, inSchedule, 'waits for its next try');
});

t.test('consumer fault - a TLS handshake that never completes: a timeout that names the handshake', async (t) => {
  const faulty = await silentTls(t);
  // Configured as for a real server with a private CA; this one never gets as far as its certificate.
  const certs = makeCerts(tempDir(t, 'certs'));
  const faulted = await underFault(t, faulty, { retrySchedule, tls: { ca: certs.ca } });
  stalled(t, faulted, 'timeout', /the TLS handshake did not complete within 5000 ms/);
  t.ok(
    faulted.attempts.every((a) => a.timings.tcp !== undefined && a.timings.tls === undefined),
    'connected, never secured',
  );
  closedInTime(t, faulty);
  await nothingLost(t, faulted, inSchedule, 'waits for its next try');
});

t.test('consumer fault - a reset in the middle of the response body: a connect failure', async (t) => {
  const holdMs = 3000;
  const timeoutMs = 10_000;
  const faulty = await resetMidBody(t, 'partial', holdMs);
  const faulted = await underFault(t, faulty, { retrySchedule, timeout: `${timeoutMs}ms` });
  for (const attempt of faulted.attempts) {
    t.equal(attempt.outcome, 'failure', 'a 200 whose body broke off is not a delivery');
    t.equal(attempt.errorClass, 'connect');
    t.match(attempt.error, /^ECONNRESET: .*after the response headers \(HTTP 200\)/);
    t.same([attempt.response.statusCode, attempt.response.body], [200, 'partial'], 'what came before is kept');
    t.ok(
      attempt.durationMs >= holdMs - 100 && attempt.durationMs < timeoutMs,
      `ended by the reset, not the timeout (${attempt.durationMs} ms)`,
    );
  }
  isolated(t, faulted);
  await nothingLost(t, faulted, inSchedule, 'waits for its next try');
});

t.test('consumer fault - a 1 GiB response: cut at maxResponseBytes, hooksd memory flat', async (t) => {
  const faulty = await hugeBody(t, 1024 * MIB);
  let before = 0;
  const faulted = await underFault(
    t,
    faulty,
    { retrySchedule },
    {
      settings: { delivery: { maxResponseBytes: MIB } },
      beforeEvents: (gateway) => (before = peakRssMib(gateway.daemon.pid)),
    },
  );
  for (const attempt of faulted.attempts) {
    t.equal(attempt.outcome, 'success', 'the 200 counts');
    t.equal(attempt.errorClass, undefined);
    t.equal(attempt.response.truncated, true);
    t.equal(attempt.response.body.length, MIB, 'maxResponseBytes kept');
    t.ok(attempt.durationMs < TIMEOUT_MS, `ended by the byte limit, before the timeout (${attempt.durationMs} ms)`);
  }
  closedInTime(t, faulty);
  t.ok(faulted.healthyLatencyMs < TIMEOUT_MS, `the healthy consumer's slowest delivery ${faulted.healthyLatencyMs} ms`);
  const sent = faulty.connections.map((c) => Math.round(c.bytesSent / MIB));
  t.ok(
    sent.every((mib) => mib < 64),
    `hooksd stopped reading: ${sent.join(', ')} MiB of 1024 sent per connection`,
  );
  const peak = peakRssMib(faulted.gateway.daemon.pid);
  t.ok(
    peak - before < 128,
    `hooksd's peak RSS went from ${before} to ${peak} MiB, offered 1 GiB ${FAULT_EVENTS} times`,
  );
  await nothingLost(t, faulted, (m) => m.status === 'success' && m.attempts === 1, 'was delivered');
});

t.test('consumer fault - accepts connections and never reads: the request cannot be sent, a timeout', async (t) => {
  const faulty = await neverReads(t);
  // The body must outgrow what the kernel buffers for an unread socket (the send buffer, at
  // most tcp_wmem's maximum, plus a receive window that stays small while nobody reads).
  // An event is at most 1 MiB (NATS max_payload), so a transform makes the body.
  const sendBufferMax = Number(readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/)[2]);
  const bodyBytes = Math.max(16 * MIB, 4 * sendBufferMax);
  const dir = tempDir(t);
  writeFileSync(
    path.join(dir, 'grow.js'),
    `function handler(webhook) { webhook.payload = { padding: 'x'.repeat(${bodyBytes}) }; return webhook; }`,
  );
  // Making and signing that much takes longer than the script plugin's default 50 ms.
  const pipeline = [
    'eventTypes',
    'payloadFilter',
    { use: 'script', options: { timeout: '5s' } },
    'standardWebhooks',
    'schedule',
  ];
  const faulted = await underFault(
    t,
    faulty,
    { retrySchedule, transform: './grow.js' },
    { dir, settings: { pipeline } },
  );
  stalled(t, faulted, 'timeout', /the request body was not fully sent within 5000 ms/);
  t.ok(
    faulted.attempts.every((a) => a.timings.tcp !== undefined && a.timings.request === undefined),
    'connected, and the request was never written whole',
  );
  const first = Math.min(...faulty.connections.map((c) => c.acceptedAt));
  t.ok(
    faulted.recordedAt - first <= 2 * TIMEOUT_MS,
    `every attempt recorded ${faulted.recordedAt - first} ms after the first connection`,
  );
  await nothingLost(t, faulted, inSchedule, 'waits for its next try');
});

/** The most resident memory the process has used since it started (VmHWM), in MiB. */
function peakRssMib(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024);
}
