import t from 'tap';
import { sortableId } from '../../daemon/store/ids.js';
import type { MessageRecord } from '../../daemon/store/records.js';

import { startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';

t.setTimeout(170_000);

const EVENTS = 50_000;
/** One billing message in this many failed. */
const FAILURE_EVERY = 20;
/** The bound for the first page of a filtered list, in server time. */
const BOUND_MS = 300;

t.test(
  `messages at scale - on a store of ${2 * EVENTS} messages the console's messages page filtered by consumer ` +
    `and status shows its first page after under ${BOUND_MS} ms of server time`,
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const { store } = daemon.hooksd.app;
    // Written as ingest writes them (events and their messages in batches), over the last hour.
    const start = Date.now() - 3_600_000;
    let failures = 0;
    for (let i = 0; i < EVENTS; i += 1000) {
      const ops = [];
      for (let j = i; j < i + 1000; j++) {
        const at = start + Math.floor((j * 3_500_000) / EVENTS);
        const eventId = `evt-scale-${j}`;
        const envelope = { id: eventId, eventType: 'order.created', payload: { orderId: `ord_${j}`, total: j } };
        ops.push(
          ...store.eventOps({
            id: eventId,
            eventType: 'order.created',
            generatedDate: new Date(at).toISOString(),
            receivedAt: at,
            seq: sortableId('seq_', at),
            subject: 'events.order.created',
            body: JSON.stringify(envelope),
          }),
        );
        for (const consumerId of ['orders', 'billing']) {
          const failed = consumerId === 'billing' && j % FAILURE_EVERY === 0;
          if (failed) failures += 1;
          const message: MessageRecord = {
            id: sortableId('msg_', at),
            eventId,
            consumerId,
            eventType: 'order.created',
            status: failed ? 'failure' : 'success',
            createdAt: at,
            updatedAt: at + 40,
            attempts: 1,
            nextAttemptAt: null,
            lastStatusCode: failed ? 500 : 200,
            ...(failed ? { lastError: 'HTTP 500' } : {}),
          };
          ops.push(...store.newMessageOps(message));
        }
      }
      await store.write(ops);
    }
    t.equal(store.countStatus('failure') + store.countStatus('success'), 2 * EVENTS, `${2 * EVENTS} messages stored`);

    // The page itself: the server's time as its Server-Timing header tells the browser, and the
    // browser's own measure of the request (sent to first byte).
    const tab = await adminTab(t, daemon);
    await tab.open('/ui/messages?consumerId=billing&status=failure');
    const rows = tab.page.locator('table.list tbody tr');
    await rows.nth(49).waitFor();
    const timing = await tab.page.evaluate(() => {
      const entry = performance
        .getEntriesByType('resource')
        .find((e) => /\/v1\/messages\?/.test(e.name)) as PerformanceResourceTiming;
      return {
        server: entry.serverTiming.find((metric) => metric.name === 'app')?.duration,
        firstByte: entry.responseStart - entry.requestStart,
      };
    });
    t.comment(`the page's request: ${timing.server} ms in hooksd, ${timing.firstByte.toFixed(1)} ms to first byte`);
    t.type(timing.server, 'number', 'the answer tells its server time');
    t.ok(timing.server! < BOUND_MS, `the first page: ${timing.server} ms of server time < ${BOUND_MS}`);
    t.equal(await rows.count(), 50, 'and shows 50 rows');
    t.ok(
      (await rows.locator('td[data-label="Status"]').allTextContents()).every((status) => status === 'failure'),
      'all failed',
    );
    t.ok(failures > 2000, `${failures} failures among them`);
  },
);
