import { Webhook } from 'standardwebhooks';
import t from 'tap';

import { startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';

t.setTimeout(170_000);

t.test(
  'consumer - settings without secrets; rotate shows the new secret once and it signs what is sent next; ' +
    'a test event from the catalog; disable and enable',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    await daemon.publish('order.created', { orderId: 'ord_1', total: 1 });
    await daemon.messages('orders', 'success', 1);
    const tab = await adminTab(t, daemon);
    const { page } = tab;
    await tab.open('/ui/consumers/orders');
    await page.getByRole('heading', { name: 'orders', level: 1 }).waitFor();

    const settings = await page.locator('.fields').first().textContent();
    t.match(settings, `${daemon.ok.url}/hooks/orders`, 'its URL');
    t.match(settings, /Event typesorder\.\*/, 'its event types');
    t.match(settings, /Retry schedule/, 'its retry schedule');
    t.match(settings, /1 active \(never shown here\)/, 'how many secrets sign, not the secrets');
    t.notMatch(await page.content(), /whsec_/, 'no secret anywhere in the page');
    await page.locator('table.list tbody tr').first().waitFor();
    t.equal(await page.locator('table.list tbody tr').count(), 1, 'its message is listed');

    await page.getByLabel('The old secret keeps signing for').selectOption('0');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('button', { name: 'Yes, rotate secret' }).click();
    const shown = page.getByLabel('New secret');
    await shown.waitFor();
    const secret = (await shown.textContent()) ?? '';
    t.match(secret, /^whsec_[A-Za-z0-9+/=]+$/, 'the new secret is shown');
    await tab.screenshot('consumer');
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    t.notMatch(stored, secret.slice(6), 'the console keeps it nowhere');

    await page.getByLabel('Event type (its catalog example is sent)').selectOption('order.created');
    await page.getByRole('button', { name: 'Send test event' }).click();
    const sent = page.getByText('Sent as message');
    await sent.waitFor();
    const messageId = (await sent.getByRole('link').textContent()) ?? '';
    t.match(messageId, /^msg_/, 'the test message is linked');
    const live = page.locator('ul.live li', { hasText: messageId });
    await live.waitFor();
    t.match(await live.textContent(), /success.*order\.created.*200/, 'its attempt shows live, as it happens');
    const [request] = (await daemon.ok.waitFor(2)).slice(1);
    const verified = new Webhook(secret).verify(request.body.toString(), request.headers as Record<string, string>);
    t.match(verified, { payload: { orderId: 'ord_example', total: 42.5 } }, "the catalog's example, signed with it");

    await page.reload();
    await page.getByRole('heading', { name: 'orders', level: 1 }).waitFor();
    t.equal(await page.getByLabel('New secret').count(), 0, 'after a reload the secret is gone: shown once');

    // By keyboard: Enter on Disable asks, and the question's answer has the focus.
    await page.getByRole('button', { name: 'Disable' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Yes, disable' }).waitFor();
    // The focus moves in an effect, after the paint that shows the question: wait for it.
    const focused = await page
      .waitForFunction(() => document.activeElement?.textContent === 'Yes, disable', null, { timeout: 15_000 })
      .then(() => true)
      .catch(() => false);
    t.ok(focused, 'the confirmation has the focus');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    t.equal((await daemon.api('/v1/consumers/orders')).body.disabled, true, 'disabled in hooksd');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    t.equal((await daemon.api('/v1/consumers/orders')).body.disabled, false, 'enabled again');

    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
  },
);

t.test('consumer - recover since a time runs as a task the page follows until it is done', async (t) => {
  const daemon = await startConsoleDaemon(t);
  for (let i = 0; i < 3; i++) await daemon.publish('order.created', { orderId: `ord_${i}`, total: i });
  const failed = await daemon.messages('billing', 'failure', 3);
  daemon.failing.respond = () => ({ status: 204 });
  const tab = await adminTab(t, daemon);
  const { page } = tab;
  await tab.open('/ui/consumers/billing');
  await page.getByRole('heading', { name: 'billing', level: 1 }).waitFor();

  // The last hour: three failures, drawn as failure bars, each bar's title saying how many.
  await page.locator('figure.chart').first().waitFor();
  t.match(await page.locator('.fields').nth(1).textContent(), /Delivered0Failed3Success0%/, 'the totals');
  const titles = await page.locator('figure.chart').first().locator('g > title').allTextContents();
  t.equal(titles.length, 60, 'a bar per minute of the hour');
  const failedInBars = titles.reduce((sum, title) => sum + Number(/(\d+) failed/.exec(title)![1]), 0);
  t.equal(failedInBars, 3, 'the bars hold the three failures');
  await tab.screenshot('consumer-charts');

  const since = await page.getByLabel('Since (your time zone)').first().inputValue();
  t.match(since, /^\d{4}-\d\d-\d\dT\d\d:\d\d$/, 'since is filled in: an hour ago');
  await page.getByRole('button', { name: 'Recover', exact: true }).click();
  const task = page.locator('.task');
  await task.waitFor();
  await page.locator('.task-done').waitFor();
  t.match(await task.textContent(), /recover done.*3 sent/, 'the task shows it resent the three');
  t.match(
    await task.getByRole('list', { name: 'By instance' }).textContent(),
    /^\S+ done: 3 examined, 3 sent$/,
    "and its one part, this instance's",
  );
  const delivered = await daemon.messages('billing', 'success', 3);
  t.same(delivered.map((m) => m.id).sort(), failed.map((m) => m.id).sort(), 'the failed messages are delivered now');

  await page.getByRole('button', { name: 'Replay missing' }).click();
  await page.locator('.task-done').nth(1).waitFor();
  t.match(await page.locator('.task').nth(1).textContent(), /replay-missing done.*0 sent/, 'nothing was missing');
  t.same(tab.errors, [], 'no script error');
});
