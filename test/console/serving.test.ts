import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ADMIN_TOKEN, READER_TOKEN, startConsoleDaemon } from '../helpers/console-daemon.js';
import { REPO } from '../helpers/hooksd.js';

const BUILT = path.join(REPO, 'dist', 'ui');

t.test(
  'serving - /ui and its client-side routes answer index.html uncached; assets by hashed name with a year of ' +
    'cache; every answer with the strict policy headers',
  async (t) => {
    const { url } = await startConsoleDaemon(t);
    const index = await fetch(`${url}/ui`);
    const html = await index.text();
    t.equal(index.status, 200, '/ui answers without a token');
    t.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    t.equal(index.headers.get('cache-control'), 'no-cache', 'index.html is never used unchecked');
    t.equal(
      index.headers.get('content-security-policy'),
      "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; form-action 'self'",
      'scripts, styles and requests from this origin only; never framed',
    );
    t.equal(index.headers.get('x-content-type-options'), 'nosniff');
    t.equal(index.headers.get('x-frame-options'), 'DENY');
    t.equal(index.headers.get('referrer-policy'), 'no-referrer');
    t.equal(html, readFileSync(path.join(BUILT, 'index.html'), 'utf8'), 'the built index.html');

    for (const route of ['/ui/', '/ui/messages', '/ui/messages/msg_123?status=failure', '/ui/consumers/a/b']) {
      const res = await fetch(url + route);
      t.equal(res.status, 200, `${route}: 200`);
      t.equal(await res.text(), html, `${route}: index.html, the page routes in the browser`);
    }

    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    t.same(
      assets.filter((asset) => !/^\/ui\/assets\/[\w-]+-[\w]{8}\.(js|css|svg)$/.test(asset)),
      [],
      'index.html refers only to local assets with a hash in their names',
    );
    t.equal(assets.length, 3, 'a script, a stylesheet and an icon');
    t.notMatch(html, /<script>|<style|\sstyle=|\son\w+=/i, 'no inline script, style or handler in index.html');
    const types: Record<string, string> = {
      js: 'text/javascript; charset=utf-8',
      css: 'text/css; charset=utf-8',
      svg: 'image/svg+xml',
    };
    for (const asset of assets) {
      const res = await fetch(url + asset);
      const body = Buffer.from(await res.arrayBuffer());
      t.equal(res.status, 200, `${asset}: 200`);
      t.equal(res.headers.get('content-type'), types[asset.split('.').pop()!], `${asset}: its type`);
      t.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', `${asset}: cached a year`);
      t.ok(res.headers.get('content-security-policy'), `${asset}: with the policy`);
      t.same(body, readFileSync(path.join(BUILT, 'assets', path.basename(asset))), `${asset}: the built file`);
    }

    const missing = await fetch(`${url}/ui/assets/console-00000000.js`);
    t.equal(missing.status, 404, 'an asset that is not there: 404, not index.html');
    t.equal((await missing.json()).code, 'HOOKSD_ROUTE_NOT_FOUND');
    const posted = await fetch(`${url}/ui`, { method: 'POST', body: '{}' });
    t.equal(posted.status, 405, 'POST /ui: 405');
    t.equal(posted.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${url}/ui/events`, { method: 'HEAD' });
    t.equal(head.status, 200, 'HEAD works');
    const api = await fetch(`${url}/v1/consumers`);
    t.equal(api.status, 401, 'the API beside it still needs a token');
    t.equal(api.headers.get('content-security-policy'), null, 'and has no page headers');
    t.equal((await fetch(`${url}/uix`)).status, 404, 'a path that only starts like /ui is not the console');
  },
);

t.test('serving - the bundle names no other host: every asset is served here', async (t) => {
  const files = readdirSync(path.join(BUILT, 'assets'));
  t.ok(files.some((file) => file.endsWith('.js')) && files.some((file) => file.endsWith('.css')), 'built');
  for (const file of files) {
    const text = readFileSync(path.join(BUILT, 'assets', file), 'utf8');
    // The SVG namespace is a name, never fetched.
    const hosts = [...text.matchAll(/\b(?:https?:)?\/\/([a-z0-9.-]+\.[a-z]{2,})/gi)]
      .map((match) => match[1])
      .filter((host) => host !== 'www.w3.org');
    t.same([...new Set(hosts)], [], `${file}: no URL of another host`);
    t.notMatch(text, /@import|@font-face/, `${file}: no imported stylesheet or web font`);
  }
});

t.test('whoami - a token learns its name and scopes; a bad token 401', async (t) => {
  const { url } = await startConsoleDaemon(t);
  const ask = (token?: string) =>
    fetch(`${url}/v1/whoami`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const admin = await ask(ADMIN_TOKEN);
  t.same(await admin.json(), { name: 'operator', scopes: ['read', 'admin', 'publish'] }, 'the admin');
  const reader = await ask(READER_TOKEN);
  t.same(await reader.json(), { name: 'viewer', scopes: ['read'] }, 'the reader');
  t.equal((await ask('nope')).status, 401, 'an unknown token: 401');
  t.equal((await ask()).status, 401, 'no token: 401');
});

t.test('whoami - with no tokens configured the API is open, and says so', async (t) => {
  const { url } = await startConsoleDaemon(t, { server: { auth: { tokens: [] } } });
  t.same(await (await fetch(`${url}/v1/whoami`)).json(), { name: null, scopes: ['read', 'admin', 'publish'] });
});
