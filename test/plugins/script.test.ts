import t from 'tap';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { ConsumerConfig } from '../../config/schema.js';
import {
  compileScript,
  loadScript,
  ScriptError,
  scriptOptionsSchema,
  scriptPlugin,
  type ScriptErrorKind,
  type ScriptWebhook,
} from '../../plugins/script.js';

const webhook = (): ScriptWebhook => ({
  method: 'POST',
  url: 'https://receiver.test/hooks',
  headers: { authorization: 'Bearer abc' },
  payload: {
    id: 'evt_1',
    eventType: 'connection.created',
    generatedDate: '2024-05-14T11:02:09Z',
    payload: { connection: { id: 'conn_1', platformKey: 'gbol' } },
  },
  cancel: false,
});

/** The time limit of the tests that hit it; the others get a loose one, so a busy machine cannot fail them. */
const LIMIT = 50;
const LOOSE = 5000;
const compile = (source: string, timeoutMs = LOOSE) => compileScript(source, { filename: './t.js', timeoutMs });
const run = (source: string, input = webhook(), timeoutMs = LOOSE) => compile(source, timeoutMs).run(input);
/** A handler whose body ends by returning `webhook`, changed by `body`. */
const handlerDoing = (body: string) => `function handler(webhook) {\n${body}\nreturn webhook;\n}`;

const scriptError = (kind: ScriptErrorKind, message: RegExp) => ({ name: 'ScriptError', kind, message });

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

t.test('script - a syntax error fails compilation, naming file, line and column', async (t) => {
  t.throws(
    () => compile('function handler(webhook) {\n  const x = 1;\n  return webhook +;\n}'),
    scriptError('compile', /^\.\/t\.js:3:19 Unexpected token ';'$/),
  );
});

t.test('script - a file without a handler function fails compilation', async (t) => {
  t.throws(
    () => compile('function transform(webhook) { return webhook; }'),
    scriptError('compile', /\.\/t\.js defines no function handler\(webhook\)/),
  );
  t.throws(() => compile('var handler = { run() {} };'), scriptError('compile', /defines no function handler/));
  t.throws(() => compile(''), scriptError('compile', /defines no function handler/));
});

t.test('script - an error at the top of the file fails compilation', async (t) => {
  t.throws(
    () => compile(`const platform = settings.platform;\nfunction handler(webhook) { return webhook; }`),
    scriptError('compile', /^transform \.\/t\.js threw while loading: settings is not defined$/),
  );
});

t.test('script - loadScript reads a file and names its path when it cannot', async (t) => {
  const dir = t.testdir({
    'transform.js': 'function handler(webhook) { webhook.headers["x-loaded"] = "yes"; return webhook; }',
    'broken.js': 'function handler(webhook) {',
  });
  t.equal(loadScript(path.join(dir, 'transform.js'), LOOSE).run(webhook()).headers['x-loaded'], 'yes');
  const missing = path.join(dir, 'missing.js');
  t.throws(() => loadScript(missing, 50), {
    name: 'ScriptError',
    kind: 'compile',
    message: new RegExp(`transform ${missing} cannot be read: ENOENT`),
  });
  t.throws(() => loadScript(path.join(dir, 'broken.js'), 50), {
    kind: 'compile',
    message: /broken\.js:1:28 Unexpected end of input$/,
  });
});

t.test('script - the options schema defaults the time limit to 50ms and wants a duration', async (t) => {
  const validate = new Ajv({ useDefaults: true }).compile(scriptOptionsSchema);
  const options = {};
  t.ok(validate(options));
  t.same(options, { timeout: '50ms' });
  t.ok(validate({ timeout: '1s' }));
  t.notOk(validate({ timeout: 'soon' }));
  t.notOk(validate({ timeout: '50ms', memory: '1mb' }), 'an unknown option is refused');
});

t.test("script - the plugin runs a consumer's transform, found relative to the config file", async (t) => {
  const configDir = t.testdir({
    transforms: { 'put.js': 'function handler(webhook) { webhook.method = "PUT"; return webhook; }' },
  });
  const plugin = scriptPlugin.create({ timeout: '50ms' }, { configDir });
  const consumer = (transform?: string) => ({ id: 'erp', transform }) as ConsumerConfig;
  t.equal(plugin.forConsumer(consumer()), null, 'a consumer without a transform has none');
  const transform = plugin.forConsumer(consumer('./transforms/put.js'));
  t.equal(transform?.(webhook()).method, 'PUT');
  t.throws(() => plugin.forConsumer(consumer('./transforms/missing.js')), {
    kind: 'compile',
    message: /transforms\/missing\.js cannot be read/,
  });
  t.throws(() => scriptPlugin.create({ timeout: '0' }, { configDir }), /timeout must be longer than 0/);
});

t.test('script - nothing of the host is reachable from a handler', async (t) => {
  process.env.HOOKSD_SCRIPT_TEST_SECRET = 'do-not-leak-4f1c';
  t.teardown(() => {
    delete process.env.HOOKSD_SCRIPT_TEST_SECRET;
  });
  const notDefined = /ReferenceError: \w+ is not defined/;
  const noCodeGeneration = /EvalError: Code generation from strings disallowed/;
  // Each attempt is an expression aiming at the host's process, env, modules or event loop.
  const attempts: [string, string, RegExp][] = [
    ['process.env', 'process.env.HOOKSD_SCRIPT_TEST_SECRET', notDefined],
    ['require', `require('fs').readFileSync('/etc/hostname', 'utf8')`, notDefined],
    ['module', 'module.constructor._load("fs")', notDefined],
    ["the global's constructor", `globalThis.constructor.constructor('return process')().pid`, noCodeGeneration],
    ["the webhook's constructor", `webhook.constructor.constructor('return process')().pid`, noCodeGeneration],
    ["this's constructor", `this.constructor.constructor('return this')().process.pid`, noCodeGeneration],
    ['Function', `Function('return process')().pid`, noCodeGeneration],
    ['eval', `eval('process').pid`, noCodeGeneration],
    ['setTimeout', 'setTimeout(() => {}, 0)', notDefined],
    ['setImmediate', 'setImmediate(() => {})', notDefined],
    ['queueMicrotask', 'queueMicrotask(() => {})', notDefined],
    ['fetch', `fetch('http://127.0.0.1/')`, notDefined],
    ['Buffer', `Buffer.from('x')`, notDefined],
    ['Promise', 'Promise.reject(new Error("stops the process when unhandled"))', notDefined],
    ['FinalizationRegistry', 'new FinalizationRegistry(() => { while (true) {} })', notDefined],
    ['WebAssembly', 'WebAssembly.compile(new Uint8Array(8))', notDefined],
    ['SharedArrayBuffer and Atomics', 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)', notDefined],
    ['console', 'console.log(webhook)', notDefined],
  ];
  const probe = (expression: string) =>
    handlerDoing(`
      let found;
      try {
        const value = (() => ${expression})();
        found = { outcome: 'value', value: value === undefined ? '<undefined>' : value };
      } catch (error) {
        found = { outcome: 'threw', error: String(error) };
      }
      webhook.payload = found;`);
  for (const [title, expression, error] of attempts) {
    const result = run(probe(expression));
    t.match(result.payload, { outcome: 'threw', error }, title);
    const seen = JSON.stringify(result);
    t.notMatch(seen, /do-not-leak-4f1c/, `${title}: no env`);
    t.notMatch(seen, new RegExp(`"value":${process.pid}\\b`), `${title}: no pid`);
  }
});

t.test('script - stack frames and callers hand out no host function', async (t) => {
  const frames = run(
    handlerDoing(`
      Error.prepareStackTrace = (error, frames) => frames.map((frame) => {
        const fn = frame.getFunction();
        if (fn === undefined) return 'hidden';
        try { return fn.constructor('return process')().pid; } catch (error) { return String(error); }
      });
      webhook.payload = { frames: new Error().stack, caller: handler.caller };`),
  );
  const { frames: seen, caller } = frames.payload as { frames: unknown[]; caller: unknown };
  t.ok(seen.length > 0);
  for (const frame of seen) t.ok(frame === 'hidden' || /EvalError/.test(String(frame)), `frame: ${String(frame)}`);
  t.equal(caller, null, "the handler's caller is hooksd's strict code, which it cannot see");
});

t.test('script - import and async are refused at compile time, as their promises would reach the host', async (t) => {
  // import() rejects with an error from the host realm, whose constructor leads to the host's
  // Function; an unhandled rejected promise would stop the whole process.
  t.throws(
    () => compile(handlerDoing(`import('fs').catch((error) => error.constructor.constructor('return process')());`)),
    scriptError('compile', /^\.\/t\.js:2:1 "import" is not available in transforms/),
  );
  t.throws(
    () => compile(`const handler = async (webhook) => { throw new Error('unhandled'); };`),
    scriptError('compile', /^\.\/t\.js:1:17 "async" is not available in transforms/),
  );
  t.throws(
    () => compile(handlerDoing(`\\u0069mport('fs');`)),
    scriptError('compile', /Keyword must not contain escaped characters/),
    'an escaped spelling is a syntax error',
  );
  t.throws(
    () => compile(`// we used to import the mapping\n${handlerDoing('')}`),
    scriptError('compile', /"import".*even in a string or a comment/),
    'the word is refused even in a comment',
  );
});

t.test('script - nothing one run leaves behind is seen by the next', async (t) => {
  const transform = compile(`
    var loads = (globalThis.loads || 0) + 1;
    globalThis.loads = loads;
    function handler(webhook) {
      const polluted = ({}).polluted === undefined ? 'no' : 'yes';
      webhook.payload = { loads, marked: typeof globalThis.mark, polluted, json: typeof JSON.parse };
      globalThis.mark = 'set';
      Object.prototype.polluted = 'yes';
      JSON.parse = null;
      return webhook;
    }`);
  const expected = { loads: 1, marked: 'undefined', polluted: 'no', json: 'function' };
  t.same(transform.run(webhook()).payload, expected, 'first run');
  t.same(transform.run(webhook()).payload, expected, 'second run starts afresh');
  t.equal(({} as Record<string, unknown>).polluted, undefined, "the host's Object.prototype is untouched");
});

t.test('script - runs per second of a simple handler', async (t) => {
  const transform = compile(
    handlerDoing(`webhook.headers['x-platform'] = webhook.payload.payload.connection.platformKey;`),
  );
  const input = webhook();
  for (let i = 0; i < 50; i++) transform.run(input);
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < 500) {
    transform.run(input);
    runs += 1;
  }
  t.comment(
    `about ${Math.round(runs / ((performance.now() - started) / 1000))} runs per second (a fresh context each run)`,
  );
});

t.test('script - a long thrown message is cut short', async (t) => {
  t.throws(
    () => run(`function handler() { throw new Error('x'.repeat(100000)); }`),
    scriptError('thrown', /^transform \.\/t\.js threw: x{490,500}…$/),
  );
});

t.test('script - the time limit must be a positive number', async (t) => {
  for (const timeoutMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(
      () => compile('function handler(webhook) { return webhook; }', timeoutMs),
      { code: 'HOOKSD_PLUGIN_INVALID' },
      String(timeoutMs),
    );
  }
});

t.test('script - ScriptError is an Error carrying its kind', async (t) => {
  const error = new ScriptError('thrown', 'boom');
  t.ok(error instanceof Error);
  t.equal(error.kind, 'thrown');
  t.equal(error.name, 'ScriptError');
});
