import t from 'tap';
import { launchBrowser, openConsole, PHONE } from '../helpers/browser.js';
import { ADMIN_TOKEN, startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';

t.setTimeout(170_000);

t.test(
  'messages - a failed message found by filter (the filters in the URL), opened with its attempts and timings; ' +
    'resend adds an attempt',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const eventId = await daemon.publish('order.created', { orderId: 'ord_7', total: 70 });
    await daemon.publish('order.shipped', { orderId: 'ord_6' });
    const [failed] = await daemon.messages('billing', 'failure', 1);
    await daemon.messages('orders', 'success', 2);
    const browser = await launchBrowser(t);
    const tab = await openConsole(t, browser, daemon.url);
    const { page } = tab;
    await tab.signIn(ADMIN_TOKEN);

    await page.getByRole('link', { name: 'Messages', exact: true }).click();
    await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
    await page.locator('table.list tbody tr').nth(2).waitFor();
    t.equal(await page.locator('table.list tbody tr').count(), 3, 'unfiltered: all three messages');
    await tab.screenshot('messages');

    await page.getByLabel('Consumer').selectOption('billing');
    await page.getByLabel('Status').selectOption('failure');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=failure/);
    const url = new URL(page.url());
    t.equal(url.searchParams.get('consumerId'), 'billing', 'the consumer filter is in the URL');
    t.equal(url.searchParams.get('status'), 'failure', 'the status filter is in the URL');
    await page.locator('table.list tbody tr').first().waitFor();
    t.equal(await page.locator('table.list tbody tr').count(), 1, 'filtered: the one failed message');
    t.equal(await page.locator('table.list tbody tr td a').first().textContent(), failed.id, 'its id');

    // The same link in a fresh tab shows the same list: filters come from the URL.
    const shared = await openConsole(t, browser, daemon.url);
    await shared.signIn(ADMIN_TOKEN);
    await shared.open(url.pathname + url.search);
    await shared.page.locator('table.list tbody tr').first().waitFor();
    t.equal(await shared.page.locator('table.list tbody tr').count(), 1, 'a shared link shows the same filtered list');
    t.equal(await shared.page.getByLabel('Status').inputValue(), 'failure', 'with the form filled from the URL');

    await page.getByRole('link', { name: failed.id }).click();
    await page.getByRole('heading', { name: failed.id, level: 1 }).waitFor();
    const attempts = page.locator('article.attempt');
    await attempts.first().waitFor();
    t.equal(await attempts.count(), 1, 'one attempt');
    const first = attempts.first();
    t.match(await first.locator('h3').textContent(), /Attempt 1.*scheduled.*failure.*500/, 'attempt 1, a 500');
    t.match(await first.locator('.error-text').textContent(), /http/, 'with its error class');
    t.ok(await first.locator('.timing svg rect').count(), 'the timing phases drawn as a bar');
    t.match(await first.locator('.phases').textContent(), /connect [\d.]+ ms.*first byte [\d.]+ ms.*total/, 'in ms');
    t.match(await first.getByLabel('Response body').textContent(), 'billing is down for maintenance', 'the body');
    t.match(await first.getByLabel('Request body').textContent(), eventId, 'the request body as sent');
    t.ok(
      await first.locator('table.headers th', { hasText: 'webhook-signature' }).count(),
      'the request headers, signature included',
    );
    t.match(
      await page.getByLabel('Envelope', { exact: true }).textContent(),
      '"orderId": "ord_7"',
      "the event's envelope",
    );
    const title = await page.locator('article.attempt time').first().getAttribute('title');
    t.match(title, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'the exact ISO time on hover');
    await tab.screenshot('message');

    daemon.failing.respond = () => ({ status: 200, body: 'ok now' });
    await page.getByRole('button', { name: 'Resend' }).click();
    await page.getByText('Resend queued').waitFor();
    await page.locator('article.attempt').nth(1).waitFor();
    t.equal(await attempts.count(), 2, 'the new attempt appears without a reload');
    t.match(
      await attempts.first().locator('h3').textContent(),
      /Attempt 2.*manual.*success.*200/,
      'newest first: the manual attempt, delivered',
    );
    await page.locator('.fields .status-success').waitFor();
    t.pass('the message shows success');
    t.equal(daemon.failing.received.length, 2, 'the receiver got the resend');
    t.equal(daemon.failing.received[1].headers['webhook-id'], failed.id, 'with the same webhook-id');

    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    t.ok(overflow <= 0, `at phone width the message page fits (${overflow} px over)`);
    await tab.screenshot('message-phone', { fullPage: false });

    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
  },
);

t.test('messages - cursor paging with filters: Older walks every page once, First page goes back', async (t) => {
  const daemon = await startConsoleDaemon(t);
  for (let i = 0; i < 55; i++) await daemon.publish('order.shipped', { orderId: `ord_${i}` });
  await daemon.messages('orders', 'success', 55);
  const tab = await adminTab(t, daemon);
  const { page } = tab;
  await tab.open('/ui/messages?consumerId=orders&status=success');
  const rows = page.locator('table.list tbody tr');
  await rows.nth(49).waitFor();
  t.equal(await rows.count(), 50, 'a page of 50');
  const firstPage = await rows.locator('td:first-child a').allTextContents();
  await page.getByRole('link', { name: 'Older →' }).click();
  await page.waitForURL(/cursor=/);
  await page.waitForFunction(() => document.querySelectorAll('table.list tbody tr').length === 5);
  const secondPage = await rows.locator('td:first-child a').allTextContents();
  t.equal(new Set([...firstPage, ...secondPage]).size, 55, 'the two pages hold all 55, none twice');
  t.equal(new URL(page.url()).searchParams.get('consumerId'), 'orders', 'the filters stay in the URL');
  t.equal(await page.getByRole('link', { name: 'Older →' }).count(), 0, 'no Older on the last page');
  await page.goBack();
  await rows.nth(49).waitFor();
  t.same(await rows.locator('td:first-child a').allTextContents(), firstPage, 'back shows the first page again');
  t.same(tab.errors, [], 'no script error');
});
