import t from 'tap';
import { openConsole } from '../helpers/browser.js';
import { startConsoleDaemon, adminTab } from '../helpers/console-daemon.js';
import { natsClient } from '../helpers/hooksd.js';

t.setTimeout(170_000);

const SCRIPT = '<script>window.__pwned = "script"; alert("script")</script>';
const IMAGE = "<img src=x onerror=\"window.__pwned = 'img'; alert('img')\">";

/** Nothing the untrusted text holds ran or became an element. */
async function nothingRan(t: Test, tab: Awaited<ReturnType<typeof openConsole>>, where: string) {
  const { page } = tab;
  t.equal(
    await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned),
    undefined,
    `${where}: no global set`,
  );
  t.equal(await page.locator('#app script, #app img, #app [onerror]').count(), 0, `${where}: no element made from it`);
  t.same(tab.dialogs, [], `${where}: no dialog`);
}
type Test = Parameters<Parameters<typeof t.test>[1]>[0];

t.test(
  'untrusted - a payload, a response body and a dead letter holding <script> and <img onerror> are shown as ' +
    'text and run nothing',
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    daemon.failing.respond = () => ({ status: 500, headers: { 'content-type': 'text/html' }, body: SCRIPT + IMAGE });
    const eventId = await daemon.publish('order.created', { orderId: 'ord_x', total: 1, note: SCRIPT + IMAGE });
    const [failed] = await daemon.messages('billing', 'failure', 1);
    // A dead letter: an envelope that is not JSON, with the same text in it.
    const nc = await natsClient(t, daemon.hooksd.nats!.url);
    nc.publish('events.order.created', new TextEncoder().encode(`not json ${SCRIPT}${IMAGE}`));
    await nc.flush();
    await daemon.hooksd.api('/healthz');
    const tab = await adminTab(t, daemon);
    const { page } = tab;

    await tab.open(`/ui/messages/${failed.id}`);
    await page.locator('article.attempt').first().waitFor();
    t.match(await page.getByLabel('Response body').first().textContent(), SCRIPT + IMAGE, 'the response body, as text');
    t.match(await page.getByLabel('Envelope', { exact: true }).textContent(), '<script>window.__pwned', 'the payload');
    await nothingRan(t, tab, 'message page');

    await tab.open(`/ui/events/${eventId}`);
    await page.getByLabel('Envelope', { exact: true }).waitFor();
    t.match(await page.getByLabel('Envelope', { exact: true }).textContent(), '<img src=x onerror=', 'the envelope');
    await tab.screenshot('event');
    await nothingRan(t, tab, 'event page');

    await tab.open('/ui/dead-letters');
    const bytes = page.getByLabel('Original bytes').first();
    await bytes.waitFor();
    t.equal(await bytes.textContent(), `not json ${SCRIPT}${IMAGE}`, 'the original bytes, exactly, as text');
    await tab.screenshot('dead-letters');
    await nothingRan(t, tab, 'dead letters page');

    await tab.open('/ui/events');
    await page.locator('table.list tbody tr').first().waitFor();
    await tab.screenshot('events');
    await tab.open('/ui/event-types');
    await page.getByRole('heading', { name: 'order.created', level: 2 }).waitFor();
    t.match(await page.getByLabel('Example of order.created').textContent(), '"orderId": "ord_example"', 'the example');
    await tab.screenshot('event-catalog');
    t.same(tab.errors, [], 'no script error, no Content-Security-Policy violation');
    t.same(tab.offHost, [], 'no request went anywhere but the daemon (the <img src=x> was never fetched)');
  },
);

t.test('untrusted - even if markup got into the page, the Content-Security-Policy runs no inline script', async (t) => {
  const daemon = await startConsoleDaemon(t);
  const tab = await adminTab(t, daemon);
  // What a mistake that put untrusted text into innerHTML would do: the policy still refuses it.
  await tab.page.evaluate((html) => {
    const div = document.createElement('div');
    div.innerHTML = html;
    document.body.append(div);
    const script = document.createElement('script');
    script.textContent = 'window.__pwned = "inline"';
    document.body.append(script);
  }, IMAGE);
  await tab.page.waitForTimeout(500);
  t.equal(
    await tab.page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned),
    undefined,
    'neither the inline handler nor the inline script ran',
  );
  t.ok(
    tab.errors.some((error) => /Content Security Policy/.test(error)),
    'the browser reports the refusal of the policy',
  );
  t.same(tab.dialogs, [], 'no dialog');
});
