import t from 'tap';
import { compile, handlerDoing, LIMIT, run, scriptError, webhook } from './script-helpers.js';

// The script plugin runs a handler: what it may change, and what stops it.

t.test('script - the identity handler returns the webhook unchanged', async (t) => {
  const input = webhook();
  t.same(run('function handler(webhook) { return webhook; }', input), input);
});

t.test('script - a handler changes method, url, headers and payload', async (t) => {
  const result = run(
    handlerDoing(`
      webhook.method = 'PUT';
      webhook.url = webhook.url + '/' + webhook.payload.payload.connection.id;
      webhook.headers['X-Platform'] = webhook.payload.payload.connection.platformKey;
      delete webhook.headers.authorization;
      webhook.payload = { connectionId: webhook.payload.payload.connection.id, tags: [1, 'two', null, true] };`),
  );
  t.same(result, {
    method: 'PUT',
    url: 'https://receiver.test/hooks/conn_1',
    headers: { 'X-Platform': 'gbol' },
    payload: { connectionId: 'conn_1', tags: [1, 'two', null, true] },
    cancel: false,
  });
});

t.test('script - a handler may replace the payload with any JSON value, or build a new webhook', async (t) => {
  t.equal(run(handlerDoing(`webhook.payload = 'plain text';`)).payload, 'plain text');
  t.equal(run(handlerDoing(`webhook.payload = null;`)).payload, null);
  const built = run(
    `const handler = (w) => ` +
      `({ method: w.method, url: 'http://other.test/', headers: {}, payload: [w.payload.id], cancel: false });`,
  );
  t.same(
    built,
    { method: 'POST', url: 'http://other.test/', headers: {}, payload: ['evt_1'], cancel: false },
    'a handler declared with const works too',
  );
});

t.test('script - a handler cancels the delivery', async (t) => {
  const result = run(
    handlerDoing(`if (webhook.payload.payload.connection.platformKey === 'gbol') webhook.cancel = true;`),
  );
  t.equal(result.cancel, true);
});

t.test('script - the caller keeps its own webhook whatever the handler does to its copy', async (t) => {
  const input = webhook();
  run(handlerDoing(`webhook.payload.payload.connection.id = 'changed'; webhook.headers.extra = 'x';`), input);
  t.same(input, webhook());
});

t.test('script - an endless loop is stopped at the time limit', async (t) => {
  const started = performance.now();
  t.throws(
    () => run('function handler(webhook) { while (true) {} }', webhook(), LIMIT),
    scriptError('timeout', /^transform \.\/t\.js took longer than 50 ms$/),
  );
  t.ok(performance.now() - started < 1000, 'returns well within a second');

  const looping = compile(
    'function handler(webhook) { for (;;) { try { while (true) {} } catch {} finally { continue; } } }',
    LIMIT,
  );
  const again = performance.now();
  t.throws(
    () => looping.run(webhook()),
    scriptError('timeout', /took longer than 50 ms/),
    'the stop cannot be caught, nor undone by finally',
  );
  t.ok(performance.now() - again < 1000);
});

t.test('script - time spent serialising the result counts towards the limit', async (t) => {
  const started = performance.now();
  t.throws(
    () => run(handlerDoing(`webhook.payload = { toJSON() { while (true) {} } };`), webhook(), LIMIT),
    scriptError('timeout', /took longer than 50 ms/),
  );
  const replaced = `JSON.stringify = () => ({ toString() { while (true) {} } });\n${handlerDoing('')}`;
  t.throws(
    () => run(replaced, webhook(), LIMIT),
    scriptError('timeout', /took longer than 50 ms/),
    'so is a JSON.stringify replaced by one that loops',
  );
  t.ok(performance.now() - started < 2000);
});

t.test('script - an endless loop at the top of the file fails at compile time', async (t) => {
  const started = performance.now();
  t.throws(
    () => compile('while (true) {}\nfunction handler(webhook) { return webhook; }', LIMIT),
    scriptError('timeout', /took longer than 50 ms while loading/),
  );
  t.ok(performance.now() - started < 1000);
});

t.test('script - an error thrown by the handler is reported with its message', async (t) => {
  t.throws(
    () => run(`function handler(webhook) { throw new Error('no connection on this event'); }`),
    scriptError('thrown', /^transform \.\/t\.js threw: no connection on this event$/),
  );
  t.throws(
    () => run(`function handler(webhook) { return webhook.payload.missing.field; }`),
    scriptError('thrown', /Cannot read properties of undefined/),
  );
  t.throws(
    () => run(`function handler(webhook) { throw 'just a string'; }`),
    scriptError('thrown', /threw: just a string$/),
  );
});

t.test('script - a thrown value is read without running its code outside the time limit', async (t) => {
  const traps = [
    `throw { get message() { while (true) {} }, get stack() { while (true) {} } };`,
    `const loop = () => { while (true) {} }; ` +
      `throw new Proxy({}, ` +
      `{ get: loop, getOwnPropertyDescriptor: loop, getPrototypeOf: loop, has: loop, ownKeys: loop });`,
    `const error = new Error('x'); ` +
      `Object.setPrototypeOf(error, new Proxy({}, { get() { while (true) {} } })); throw error;`,
  ];
  for (const body of traps) {
    const started = performance.now();
    t.throws(() => run(`function handler(webhook) { ${body} }`), { name: 'ScriptError', kind: 'thrown' }, body);
    t.ok(performance.now() - started < 1000, 'returns at once');
  }
});

t.test('script - a result that is not a webhook hooksd can send is refused, naming the field', async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      'nothing returned',
      'function handler(webhook) { webhook.cancel = true; }',
      /not JSON: the handler returned undefined/,
    ],
    ['null', 'function handler() { return null; }', /must return the webhook object, not null/],
    ['a number', 'function handler() { return 42; }', /must return the webhook object, not number/],
    ['an array', 'function handler(webhook) { return [webhook]; }', /must return the webhook object, not an array/],
    ['method GET', handlerDoing(`webhook.method = 'GET';`), /method must be "POST" or "PUT", not "GET"/],
    ['method in lower case', handlerDoing(`webhook.method = 'put';`), /method must be "POST" or "PUT", not "put"/],
    [
      'url not a URL',
      handlerDoing(`webhook.url = 'receiver.test/hooks';`),
      /url must be an http\(s\) URL, not "receiver.test\/hooks"/,
    ],
    ['url with another scheme', handlerDoing(`webhook.url = 'file:///etc/passwd';`), /url must be an http\(s\) URL/],
    ['url missing', handlerDoing(`delete webhook.url;`), /url must be an http\(s\) URL, not undefined/],
    ['headers an array', handlerDoing(`webhook.headers = ['x'];`), /headers must be an object of strings/],
    [
      'a number header',
      handlerDoing(`webhook.headers['x-count'] = 3;`),
      /headers\["x-count"\] must be a string, not number/,
    ],
    [
      'a null header',
      handlerDoing(`webhook.headers['x-none'] = null;`),
      /headers\["x-none"\] must be a string, not null/,
    ],
    [
      'a header name with a space',
      handlerDoing(`webhook.headers['x bad'] = 'v';`),
      /headers: "x bad" is not a header name/,
    ],
    [
      'a header value with a newline',
      handlerDoing(`webhook.headers['x-split'] = 'a\\r\\nx-injected: 1';`),
      /headers\["x-split"\] contains a character/,
    ],
    ['payload undefined', handlerDoing(`webhook.payload = undefined;`), /payload is missing/],
    ['cancel a string', handlerDoing(`webhook.cancel = 'yes';`), /cancel must be true or false, not "yes"/],
    ['an unknown field', handlerDoing(`webhook.body = 'x';`), /unknown field "body"/],
    ['a BigInt', handlerDoing(`webhook.payload = { amount: 10n };`), /not JSON: Do not know how to serialize a BigInt/],
    [
      'a cycle',
      handlerDoing(`webhook.payload.self = webhook.payload;`),
      /not JSON: Converting circular structure to JSON/,
    ],
    ['a function', 'function handler() { return handler; }', /not JSON: the handler returned function/],
    ['JSON.stringify replaced', `JSON.stringify = () => 'not json';\n${handlerDoing('')}`, /could not be read as JSON/],
  ];
  for (const [title, source, message] of cases) {
    t.throws(() => run(source), scriptError('invalid-result', message), title);
  }
});

t.test("script - hooksd's own headers cannot be set by a handler", async (t) => {
  for (const name of [
    'content-type',
    'Content-Length',
    'host',
    'transfer-encoding',
    'connection',
    'User-Agent',
    'webhook-signature',
    'Webhook-Id',
  ]) {
    t.throws(
      () => run(handlerDoing(`webhook.headers[${JSON.stringify(name)}] = 'mine';`)),
      scriptError('invalid-result', new RegExp(`headers: "${name}" is set by hooksd`)),
      name,
    );
  }
  t.equal(
    run(handlerDoing(`webhook.headers['x-webhook-source'] = 'erp';`)).headers['x-webhook-source'],
    'erp',
    'a name merely containing "webhook" is fine',
  );
});

t.test('script - a long thrown message is cut short', async (t) => {
  t.throws(
    () => run(`function handler() { throw new Error('x'.repeat(100000)); }`),
    scriptError('thrown', /^transform \.\/t\.js threw: x{490,500}…$/),
  );
});
