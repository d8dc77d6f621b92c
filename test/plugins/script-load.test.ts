import t from 'tap';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { ConsumerConfig } from '../../config/schema.js';
import { loadScript, ScriptError, scriptOptionsSchema, scriptPlugin } from '../../plugins/script.js';
import { compile, LOOSE, scriptError, webhook } from './script-helpers.js';

// The script plugin loads and compiles a transform file, and validates its options.

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
