import t from 'tap';

import { ORDER_CREATED, startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';
import { eventually, natsClient } from '../helpers/hooksd.js';

t.setTimeout(170_000);

t.test(
  "events - an event's page lists its messages; replay to a chosen consumer, then to all; times in the " +
    "browser's zone with the ISO time on hover",
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const eventId = await daemon.publish('order.created', { orderId: 'ord_1', total: 1 });
    await daemon.messages('orders', 'success', 1);
    await daemon.messages('billing', 'failure', 1);
    const tab = await adminTab(t, daemon, { timezoneId: 'Asia/Tokyo' });
    const { page } = tab;

    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByRole('link', { name: eventId }).click();
    await page.getByRole('heading', { name: eventId, level: 1 }).waitFor();
    const messages = page.locator('table.list tbody tr');
    await messages.nth(1).waitFor();
    t.same(
      (await messages.locator('td[data-label="Consumer"]').allTextContents()).sort(),
      ['billing', 'orders'],
      'its two messages',
    );

    const received = page.locator('.fields time').nth(1);
    const iso = (await received.getAttribute('title')) ?? '';
    const inTokyo = new Intl.DateTimeFormat('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'medium',
      timeZone: 'Asia/Tokyo',
    }).format(new Date(iso));
    t.equal(await received.textContent(), inTokyo, `shown in the browser's zone (Tokyo): ${inTokyo}, title ${iso}`);

    await page.getByRole('checkbox', { name: 'orders' }).check();
    await page.getByRole('button', { name: 'Replay to 1 chosen' }).click();
    await page.getByText('1 new message:').waitFor();
    await daemon.ok.waitFor(2);
    t.equal(daemon.failing.received.length, 1, 'billing was not sent it again');

    await page.getByRole('button', { name: 'Replay to all' }).click();
    await page.getByRole('button', { name: 'Yes, replay to all' }).click();
    await page.getByText('2 new messages:').waitFor();
    await messages.nth(4).waitFor();
    t.equal(await messages.count(), 5, 'the page lists the five messages of the event now');
    await daemon.ok.waitFor(3);
    await daemon.failing.waitFor(2);
    t.pass('each consumer got the replay to all');
    t.same(tab.errors, [], 'no script error');
    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
  },
);

t.test(
  'dead letters - a refused event is redriven from the page once its type joins the catalog; one that ' +
    'cannot be read says why',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const nc = await natsClient(t, daemon.hooksd.nats!.url);
    const refund = { id: 'evt-refund-1', payload: { orderId: 'ord_9', amount: 5 } };
    nc.publish('events.order.refunded', JSON.stringify(refund));
    nc.publish('events.order.created', 'this is not JSON');
    await nc.flush();
    await eventually(async () => {
      const { body } = await daemon.api('/v1/dead-letters');
      return body.data.length === 2 ? true : undefined;
    });
    await daemon.hooksd.reconfigure((config) => ({
      ...config,
      eventTypes: [ORDER_CREATED, { name: 'order.refunded' }],
      consumers: config.consumers.map((c: any) => (c.id === 'orders' ? { ...c, eventTypes: ['order.*'] } : c)),
    }));

    const tab = await adminTab(t, daemon);
    const { page } = tab;
    await tab.open('/ui/dead-letters');
    const letters = page.locator('article.letter');
    await letters.nth(1).waitFor();
    const refused = letters.filter({ hasText: 'this is not JSON' });
    const refundLetter = letters.filter({ hasText: 'evt-refund-1' });
    t.match(await refundLetter.locator('.problem-text').textContent(), /order\.refunded/, 'the reason names the type');

    await refused.getByRole('button', { name: 'Redrive' }).click();
    await refused.getByRole('alert').waitFor();
    t.match(await refused.getByRole('alert').textContent(), /^422 HOOKSD_EVENT_REFUSED: /, 'refused again, with why');

    await refundLetter.getByRole('button', { name: 'Redrive' }).click();
    await refundLetter.getByText('Ingested as').waitFor();
    t.match(await refundLetter.getByRole('status').textContent(), /Ingested as evt-refund-1, 1 messages/, 'ingested');
    const [request] = await daemon.ok.waitFor(1);
    t.match(JSON.parse(request.body.toString()), { id: 'evt-refund-1', payload: refund.payload }, 'and delivered');
    await eventually(async () =>
      (await refundLetter.getByRole('button', { name: 'Redrive' }).count()) ? undefined : 1,
    );
    t.pass('the redriven letter has no Redrive button any more');
    t.same(tab.errors, [], 'no script error');
  },
);
