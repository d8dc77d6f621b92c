import t from 'tap';
import { launchBrowser, openConsole } from '../helpers/browser.js';
import { ADMIN_TOKEN, READER_TOKEN, startConsoleDaemon } from '../helpers/console-daemon.js';
import { eventually, natsClient } from '../helpers/hooksd.js';

t.setTimeout(170_000);

/** The buttons of a page, by their text; the sign-out button aside. */
async function buttons(page: import('playwright-core').Page): Promise<string[]> {
  const names = await page.locator('main button').allTextContents();
  return names.map((name) => name.trim()).filter((name) => name !== 'Sign out');
}

t.test(
  'read-only - a read token sees every page but no button that changes anything, and a write forged from ' +
    "the page's own script is refused 403",
  async (t) => {
    const daemon = await startConsoleDaemon(t);
    const eventId = await daemon.publish('order.created', { orderId: 'ord_1', total: 1 });
    const [failed] = await daemon.messages('billing', 'failure', 1);
    const nc = await natsClient(t, daemon.hooksd.nats!.url);
    nc.publish('events.order.created', 'not JSON');
    await nc.flush();
    await eventually(async () => ((await daemon.api('/v1/dead-letters')).body.data.length === 1 ? true : undefined));
    const browser = await launchBrowser(t);

    // The admin sees the buttons: the read-only check below can fail.
    const admin = await openConsole(t, browser, daemon.url);
    await admin.signIn(ADMIN_TOKEN);
    await admin.open(`/ui/messages/${failed.id}`);
    await admin.page.getByRole('button', { name: 'Resend' }).waitFor();
    await admin.open('/ui/consumers/billing');
    await admin.page.getByRole('button', { name: 'Rotate secret' }).waitFor();
    await admin.open('/ui/dead-letters');
    await admin.page.getByRole('button', { name: 'Redrive' }).waitFor();
    t.pass('an admin token sees Resend, Rotate secret and Redrive');

    const tab = await openConsole(t, browser, daemon.url);
    const { page } = tab;
    await tab.signIn(READER_TOKEN);
    t.match(await page.locator('.who').textContent(), /viewer · read/, 'signed in as the viewer, read only');

    // Each page once what an admin acts on is shown: its settings, attempts, messages, letters.
    const pages: [string, string][] = [
      ['/ui/consumers/billing', 'table.list tbody tr'],
      [`/ui/messages/${failed.id}`, 'article.attempt'],
      [`/ui/events/${eventId}`, 'table.list tbody tr'],
      ['/ui/dead-letters', 'article.letter'],
      ['/ui/messages', 'table.list tbody tr'],
    ];
    for (const [where, ready] of pages) {
      await tab.open(where);
      await page.locator(ready).first().waitFor();
      const shown = await buttons(page);
      const writes = shown.filter((name) => !['Filter', 'Open'].includes(name));
      t.same(writes, [], `${where}: no write button (buttons: ${shown.join(', ') || 'none'})`);
    }
    await tab.open('/ui/consumers/billing');
    await page.locator('table.list tbody tr').first().waitFor();
    t.equal(await page.getByRole('heading', { name: 'Actions' }).count(), 0, 'no actions section for a reader');

    // The page's script, with the token it keeps, tries what the buttons would do.
    const forged = await page.evaluate(async (messageId) => {
      const token = sessionStorage.getItem('hooksd.token');
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const tries = [
        [`/v1/messages/${messageId}/resend`, {}],
        ['/v1/consumers/billing/secret/rotate', {}],
        ['/v1/consumers/billing/disable', {}],
      ] as const;
      const answers = [];
      for (const [path, body] of tries) {
        const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
        answers.push({ path, status: res.status, body: await res.json() });
      }
      return answers;
    }, failed.id);
    for (const answer of forged) {
      t.equal(answer.status, 403, `POST ${answer.path} from the page: 403`);
      t.equal(answer.body.code, 'HOOKSD_FORBIDDEN', 'HOOKSD_FORBIDDEN');
    }
    t.equal(daemon.failing.received.length, 1, 'nothing was resent');
    t.equal((await daemon.api('/v1/consumers/billing')).body.disabled, false, 'the consumer is still enabled');
    t.same(tab.offHost, [], 'no request went anywhere but the daemon');
    t.same(tab.errors, [], 'no script error');
  },
);
