import t from 'tap';
import { launchBrowser, openConsole, PHONE } from '../helpers/browser.js';
import { ADMIN_TOKEN, startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';

t.setTimeout(170_000);

t.test(
  'sign in - a wrong token is refused with a reason; the right one shows every consumer, kept for the tab ' +
    'until sign out; no request leaves the daemon',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    await daemon.publish('order.created', { orderId: 'ord_1', total: 10 });
    await daemon.messages('orders', 'success', 1);
    await daemon.messages('billing', 'failure', 1);
    const browser = await launchBrowser(t);
    const tab = await openConsole(t, browser, daemon.url);
    const { page } = tab;

    await tab.open('/ui');
    await page.getByLabel('API token').waitFor();
    await tab.screenshot('sign-in', { fullPage: false });
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not one of server.auth.tokens' }).waitFor();
    t.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');

    // By keyboard alone: type the token, Enter.
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    const rows = page.locator('table.list tbody tr');
    await rows.first().waitFor();
    t.same(
      await rows.locator('td:first-child a').allTextContents(),
      ['billing', 'orders'],
      'both consumers are listed, by id',
    );
    const row = (id: string) => rows.filter({ has: page.getByRole('link', { name: id, exact: true }) });
    // The statistics come in their own answer, maybe after the list.
    await row('billing').locator('td[data-label="Success"]', { hasText: '%' }).waitFor();
    t.equal(await row('orders').locator('td[data-label="Success"]').textContent(), '100%', 'orders: all delivered');
    t.equal(await row('billing').locator('td[data-label="Success"]').textContent(), '0%', 'billing: none');
    t.match(
      await row('orders').locator('td[data-label="p50 / p95"]').textContent(),
      /^[\d.]+ ms \/ [\d.]+ ms$/,
      'latency',
    );
    t.match(
      await row('billing').locator('td[data-label="Last error"]').textContent(),
      /500.*HTTP 500/,
      'its last error',
    );
    t.equal(await row('billing').locator('td[data-label="Pending"]').textContent(), '0', 'nothing pending');
    t.match(await page.locator('.health').textContent(), /hooksd: ready.*NATS: ok.*store: ok/, 'health is shown');
    t.match(await page.locator('.who').textContent(), /operator · read, admin, publish/, "the token's name and scopes");
    await page.locator('.ops li').first().waitFor();
    t.match(
      await page.locator('.ops li').first().textContent(),
      /message\.failure.*"consumerId":"billing"/,
      "billing's failed message among the recent operations events",
    );
    await tab.screenshot('overview');

    await page.reload();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    t.pass('a reload keeps the session (sessionStorage)');

    await page.getByRole('link', { name: 'billing' }).first().click();
    await page.getByRole('heading', { name: 'billing', level: 1 }).waitFor();
    t.equal(new URL(page.url()).pathname, '/ui/consumers/billing', 'the consumer page has its own URL');
    await page.goBack();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    t.pass('back returns to the overview');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    t.equal(await page.evaluate(() => sessionStorage.getItem('hooksd.token')), null, 'sign out forgets the token');

    // Another tab of the same browser is another session: it must sign in.
    const other = await openConsole(t, browser, daemon.url);
    await other.open('/ui/messages');
    await other.page.getByLabel('API token').waitFor();
    t.pass('a new tab asks for the token');

    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.dialogs, [], 'no dialog opened');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
  },
);

t.test('overview - readable at phone width; keyboard reaches every section and shows where focus is', async (t) => {
  const daemon = await startConsoleDaemon(t);
  await daemon.publish('order.created', { orderId: 'ord_2', total: 20 });
  await daemon.messages('billing', 'failure', 1);
  const tab = await adminTab(t, daemon, { viewport: PHONE });
  const { page } = tab;
  await page.locator('table.list tbody tr').nth(1).waitFor();

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  t.ok(overflow <= 0, `the page is no wider than the phone (${overflow} px over)`);
  await tab.screenshot('overview-phone', { fullPage: false });

  // Tab from the top: the skip link first, then the navigation, in order.
  const reached: string[] = [];
  for (let i = 0; i < 7; i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => (document.activeElement as HTMLElement).textContent?.trim() ?? ''));
  }
  t.same(
    reached,
    ['Skip to content', 'hooksd', 'Overview', 'Messages', 'Events', 'Dead letters', 'Event catalog'],
    'Tab walks the skip link and the sections in order',
  );
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
  t.equal(outline, 'solid', 'the focused link shows an outline');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Event catalog', level: 1 }).waitFor();
  t.equal(new URL(page.url()).pathname, '/ui/event-types', 'Enter follows the focused link');
  t.same(tab.offHost, [], 'no request went anywhere but the daemon');
  t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
});
