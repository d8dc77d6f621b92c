import type { Test } from 'tap';
import { launchBrowser, openConsole, type ConsolePage } from './browser.js';
import { eventually, json } from './hooksd.js';
import { startInProcess, type InProcess } from './in-process.js';
import { startReceiver, type Receiver } from './receiver.js';

/** Tokens of the console tests: one that may do everything, one that may only read. */
export const ADMIN_TOKEN = 'console-admin-token-0123456789';
export const READER_TOKEN = 'console-reader-token-0123456789';

export const ORDER_CREATED = {
  name: 'order.created',
  description: 'An order was placed.',
  schema: {
    type: 'object',
    required: ['orderId', 'total'],
    properties: { orderId: { type: 'string' }, total: { type: 'number' }, note: { type: 'string' } },
  },
  example: { orderId: 'ord_example', total: 42.5 },
};

export interface ConsoleDaemon {
  hooksd: InProcess;
  url: string;
  /** Answers 200 with a small JSON body. */
  ok: Receiver;
  /** Answers 500 with a body until told otherwise (`failing.respond`). */
  failing: Receiver;
  /** Publishes an event through the API (and so NATS and ingest); returns its id. */
  publish(eventType: string, payload: unknown): Promise<string>;
  /** Calls the API with the admin token. */
  api(pathAndQuery: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  /** Waits until `consumerId` has `count` messages in `status`, and returns them. */
  messages(consumerId: string, status: string, count: number): Promise<any[]>;
}

/**
 * hooksd in this process with two consumers on real receivers on 127.0.0.1 (`orders` delivered,
 * `billing` failing with one attempt each), tokens for an admin and a reader, a catalog, and
 * its real NATS and store; everything stops when the test ends.
 */
export async function startConsoleDaemon(t: Test, config: Record<string, any> = {}): Promise<ConsoleDaemon> {
  const ok = await startReceiver(t, () => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"received":true}',
  }));
  const failing = await startReceiver(t, () => ({
    status: 500,
    headers: { 'content-type': 'text/plain' },
    body: 'billing is down for maintenance',
  }));
  const hooksd = await startInProcess(t, {
    server: {
      auth: {
        tokens: [
          { name: 'operator', token: ADMIN_TOKEN, scopes: ['read', 'admin', 'publish'] },
          { name: 'viewer', token: READER_TOKEN, scopes: ['read'] },
        ],
      },
    },
    eventTypes: [ORDER_CREATED, { name: 'order.shipped', description: 'An order left the warehouse.' }],
    consumers: [
      { id: 'orders', url: `${ok.url}/hooks/orders`, description: 'Order service', eventTypes: ['order.*'] },
      { id: 'billing', url: `${failing.url}/hooks/billing`, eventTypes: ['order.created'], retrySchedule: ['0s'] },
    ],
    ...config,
  });
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const api = async (pathAndQuery: string, init: RequestInit = {}) =>
    hooksd.api(pathAndQuery, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
  return {
    hooksd,
    url: hooksd.url,
    ok,
    failing,
    api,
    async publish(eventType, payload) {
      const { status, body } = await api('/v1/events', json('POST', { eventType, payload }));
      if (status !== 202) throw new Error(`POST /v1/events answered ${status}: ${JSON.stringify(body)}`);
      return body.id;
    },
    messages(consumerId, status, count) {
      return eventually(
        async () => {
          const { body } = await api(`/v1/messages?consumerId=${consumerId}&status=${status}&limit=250`);
          return body.data.length >= count ? body.data : undefined;
        },
        30_000,
        `${count} ${status} messages of ${consumerId}`,
      );
    },
  };
}

/** A console tab on `daemon`, in a browser of its own, signed in with the admin token. */
export async function adminTab(
  t: Test,
  daemon: Pick<ConsoleDaemon, 'url'>,
  options?: Parameters<typeof openConsole>[3],
): Promise<ConsolePage> {
  const tab = await openConsole(t, await launchBrowser(t), daemon.url, options);
  await tab.signIn(ADMIN_TOKEN);
  return tab;
}
