import t from 'tap';
import { launchBrowser, openConsole } from '../helpers/browser.js';
import { READER_TOKEN, startConsoleDaemon } from '../helpers/console-daemon.js';

t.setTimeout(170_000);

t.test('instances - the overview shows the group: a lone hooksd lists itself, alive, its YAML its own', async (t) => {
  const daemon = await startConsoleDaemon(t, { instance: { id: 'console-1' } });
  const { status, body } = await daemon.api('/v1/instances');
  t.equal(status, 200);
  t.match(body, { self: 'console-1', count: 1, data: [{ id: 'console-1', self: true, sameYaml: true }] });

  const browser = await launchBrowser(t);
  const tab = await openConsole(t, browser, daemon.url);
  const { page } = tab;
  await tab.signIn(READER_TOKEN);
  const section = page.getByRole('region', { name: 'Instances' });
  const rows = section.locator('tbody tr');
  await rows.first().waitFor();
  t.equal(await rows.count(), 1, 'one instance');
  const row = (await rows.first().textContent()) ?? '';
  t.match(row, /^console-1 \(this one\)id tag [0-9a-z]{5}/, 'its id and id tag, marked as the one answering');
  t.match(row, /same$/, 'its config file agrees with itself');
  t.equal(await rows.first().locator('time').count(), 2, 'when it started and was last seen');
  t.match(await section.textContent(), /1 instance alive; the console talks to console-1/);
  await tab.screenshot('instances');
  t.same(tab.errors, [], 'no script error');
});
