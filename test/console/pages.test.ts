import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';
import { json } from '../helpers/hooksd.js';

t.setTimeout(170_000);

/** How far the page is wider than the window (1280×800 unless the tab says otherwise): 0 or less fits. */
const overflow = (page: import('playwright-core').Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

t.test(
  "overview - each consumer's state (enabled, failing, disabled and why), its source (config file or API) " +
    'and its deliveries per minute',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    await daemon.publish('order.created', { orderId: 'ord_1', total: 1 });
    await daemon.messages('orders', 'success', 1);
    await daemon.messages('billing', 'failure', 1);
    const made = await daemon.api('/v1/consumers', json('POST', { id: 'audit', url: `${daemon.ok.url}/hooks/audit` }));
    t.equal(made.status, 201, 'a consumer made through the API');
    t.equal((await daemon.api('/v1/consumers/audit/disable', json('POST', {}))).status, 200, 'and disabled');

    const tab = await adminTab(t, daemon);
    const { page } = tab;
    const rows = page.locator('table.list tbody tr');
    await rows.nth(2).waitFor();
    const row = (id: string) => rows.filter({ has: page.getByRole('link', { name: id, exact: true }) });
    const cell = (id: string, label: string) => row(id).locator(`td[data-label="${label}"]`);
    await cell('orders', 'Success').filter({ hasText: '%' }).waitFor();

    t.equal(await cell('orders', 'State').textContent(), 'enabled', 'orders: enabled');
    t.match(await cell('billing', 'State').textContent(), /^failing since \d/, 'billing: failing, since when');
    t.equal(
      await cell('audit', 'State').textContent(),
      'disabled: disabled through the API',
      'audit: disabled, and why',
    );
    t.same(
      [await cell('orders', 'Source').textContent(), await cell('audit', 'Source').textContent()],
      ['yaml', 'api'],
      'where each comes from',
    );
    const perMinute = Number(await cell('orders', 'Per minute').textContent());
    t.ok(perMinute > 0, `orders delivered ${perMinute} per minute over the hour`);
    t.equal(await cell('audit', 'Per minute').textContent(), '0.00', 'audit: nothing');
    t.ok((await overflow(page)) <= 0, 'the overview fits 1280×800 without scrolling sideways');
    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
  },
);

t.test(
  'messages - filtered by event type and by time range (in the URL), and opened by message or event id',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const created = await daemon.publish('order.created', { orderId: 'ord_1', total: 1 });
    await daemon.publish('order.shipped', { orderId: 'ord_1' });
    const [shipped] = (await daemon.messages('orders', 'success', 2)).filter((m) => m.eventType === 'order.shipped');
    await daemon.messages('billing', 'failure', 1);
    const tab = await adminTab(t, daemon);
    const { page } = tab;
    await tab.open('/ui/messages');
    const rows = page.locator('table.list tbody tr');
    await rows.nth(2).waitFor();
    t.equal(await rows.count(), 3, 'unfiltered: three messages');

    await page.getByLabel('Event type').selectOption('order.shipped');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/eventType=order\.shipped/);
    await page.waitForFunction(() => document.querySelectorAll('table.list tbody tr').length === 1);
    t.equal(await rows.locator('td[data-label="Event type"]').textContent(), 'order.shipped', 'by event type');
    t.equal(await rows.locator('td:first-child a').textContent(), shipped.id, 'the shipped message');
    t.ok((await overflow(page)) <= 0, 'the messages page fits 1280×800 without scrolling sideways');

    // The time range, typed in the browser's zone, goes into the URL as ISO 8601.
    const local = (offsetMs: number) =>
      page.evaluate((offset) => {
        const d = new Date(Date.now() + offset);
        const pad = (n: number) => String(n).padStart(2, '0');
        const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
        return `${day}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      }, offsetMs);
    await tab.open('/ui/messages');
    await rows.nth(2).waitFor();
    const later = await local(3_600_000);
    await page.getByLabel('Since').fill(later);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/since=/);
    const since = new URL(page.url()).searchParams.get('since')!;
    t.match(since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/, `since ${since} in the URL`);
    t.equal(
      await page.evaluate((iso) => new Date(iso).getHours(), since),
      Number(later.slice(11, 13)),
      'the hour typed, in the browser zone',
    );
    await page.getByText('No messages.').waitFor();
    t.pass('since an hour from now: none');
    await page.getByLabel('Since').fill(await local(-3_600_000));
    await page.getByLabel('Until').fill(later);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/until=/);
    await rows.nth(2).waitFor();
    t.equal(await rows.count(), 3, 'from an hour ago until an hour from now: all three');

    await page.getByLabel('Message or event id').fill(shipped.id);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('heading', { name: shipped.id, level: 1 }).waitFor();
    t.equal(new URL(page.url()).pathname, `/ui/messages/${shipped.id}`, 'a message id opens the message');
    await tab.open('/ui/messages');
    await page.getByLabel('Message or event id').fill(created);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: created, level: 1 }).waitFor();
    t.equal(new URL(page.url()).pathname, `/ui/events/${created}`, 'an event id opens the event, with its messages');
    await page.locator('table.list tbody tr').nth(1).waitFor();
    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
  },
);

t.test(
  "consumer and catalog - a consumer's filter, transform and rate limit, its latency chart; each type's schema",
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const script = path.join(path.dirname(daemon.hooksd.configFile), 'stamp.js');
    writeFileSync(script, 'function handler(webhook) { return webhook; }\n');
    await daemon.hooksd.reconfigure((config) => ({
      ...config,
      consumers: config.consumers.map((c: any) =>
        c.id === 'orders' ? { ...c, transform: script, filter: { 'payload.total': { $gte: 10 } }, rateLimit: 25 } : c,
      ),
    }));
    await daemon.publish('order.created', { orderId: 'ord_big', total: 12 });
    await daemon.messages('orders', 'success', 1);
    const tab = await adminTab(t, daemon);
    const { page } = tab;

    await tab.open('/ui/consumers/orders');
    await page.getByRole('heading', { name: 'orders', level: 1 }).waitFor();
    const setting = (name: string) =>
      page
        .locator('.fields')
        .first()
        .locator('div', { has: page.locator('dt', { hasText: name }) })
        .locator('dd');
    t.equal(await setting('Transform').textContent(), 'stamp.js', 'its transform script, as the YAML names it');
    t.match(await page.getByLabel('Filter').textContent(), /"payload\.total":\s*\{\s*"\$gte": 10/, 'its filter');
    t.equal(await setting('Rate limit').textContent(), '25 per second', 'its rate limit');
    const latency = page.getByRole('img', { name: 'Latency per step, p50 and p95' });
    await latency.waitFor();
    t.pass('the latency chart is drawn');
    t.ok((await overflow(page)) <= 0, 'the consumer page fits 1280×800 without scrolling sideways');

    await tab.open('/ui/consumers/billing');
    await page.getByRole('heading', { name: 'billing', level: 1 }).waitFor();
    t.equal(await setting('Transform').textContent(), 'none', 'billing has no transform');
    t.equal(await setting('Rate limit').textContent(), 'none', 'and no rate limit');

    await tab.open('/ui/event-types');
    const schema = page.getByLabel('Schema of order.created');
    await schema.waitFor();
    const shown = JSON.parse((await schema.textContent()) ?? '');
    t.same(shown.required, ['orderId', 'total'], "order.created's schema, as the catalog has it");
    t.equal(shown.properties.total.type, 'number');
    const shippedCard = page.locator('section.card', { has: page.getByRole('heading', { name: 'order.shipped' }) });
    t.match(await shippedCard.textContent(), /Any payload\./, 'a type without a schema says so');
    t.ok((await overflow(page)) <= 0, 'the catalog fits 1280×800 without scrolling sideways');
    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
  },
);
