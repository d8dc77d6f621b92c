import t from 'tap';
import { compile, handlerDoing, run, scriptError, webhook } from './script-helpers.js';

// The script plugin's sandbox: nothing of the host reaches a handler, nothing of one run the next.

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
