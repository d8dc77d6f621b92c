import { readFileSync } from 'node:fs';
import path from 'node:path';
import { types } from 'node:util';
import vm from 'node:vm';
import { DURATION_PATTERN, parseDuration } from '../config/duration.js';
import { HEADER_NAME_PATTERN } from '../config/schema.js';
import { isReservedHeader } from '../config/validate.js';
import { HooksdError } from '../daemon/common/errors.js';
import type { PluginDefinition, Webhook } from './contract.js';

/**
 * Codat-style transformations: an operator's JavaScript file defines `handler(webhook)` and
 * returns the webhook, changed or with `cancel: true`. The file is compiled once; every run
 * gets a fresh context holding only the language's own built-ins, so nothing one run leaves
 * behind reaches the next and no host object (no `require`, `process` or host `Function`) is
 * ever reachable. Data crosses the boundary as JSON text only, in both directions, and the
 * host touches nothing the script made except strings it checks with `typeof`.
 *
 * What Node's vm leaves open, and how it is closed here:
 * - `import()` rejects with an error made in the host realm, whose `constructor.constructor`
 *   is the host's `Function`. A transform may not contain the word `import` at all.
 * - A rejected promise nobody handles stops the whole process, and a FinalizationRegistry
 *   callback runs later on the host's event loop, outside any time limit. Promise,
 *   FinalizationRegistry, Atomics, SharedArrayBuffer and WebAssembly are removed from the
 *   context, and a transform may not contain the word `async`.
 * - With `displayErrors` on, Node reads `stack` from whatever was thrown, after the time limit
 *   has ended: a getter there would run unbounded. It is off, and a thrown value is only read
 *   through own data properties.
 * Memory is not limited: a script that allocates without bound can still exhaust the heap.
 */

/** The webhook a handler receives and returns: `payload` is the whole event envelope. */
export type ScriptWebhook = Webhook;

export type ScriptErrorKind = 'timeout' | 'thrown' | 'invalid-result' | 'compile';

/**
 * Why a transform failed: `compile` at start-up (syntax, no `handler`, a refused word),
 * the others per run: `timeout` when it ran out of time, `thrown` when the script threw,
 * `invalid-result` when what it returned is not a webhook hooksd can send.
 */
export class ScriptError extends HooksdError {
  override readonly name = 'ScriptError';

  constructor(
    readonly kind: ScriptErrorKind,
    message: string,
  ) {
    super('HOOKSD_TRANSFORM_FAILED', message);
  }
}

export interface ScriptTransform {
  /** Runs the handler over a copy of `webhook`; throws a ScriptError when it fails. */
  run(webhook: ScriptWebhook): ScriptWebhook;
}

export const scriptOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeout: {
      type: 'string',
      pattern: DURATION_PATTERN,
      default: '50ms',
      description:
        'Longest a transform may run for one delivery, like "50ms" or "1s"; a transform that takes longer fails ' +
        'the attempt.',
    },
  },
};

/** The language's built-ins a transform may use; everything else is removed from its context. */
const SANDBOX_GLOBALS = [
  'globalThis',
  'undefined',
  'NaN',
  'Infinity',
  'Object',
  'Function',
  'Array',
  'Number',
  'Boolean',
  'String',
  'Symbol',
  'BigInt',
  'Date',
  'RegExp',
  'Math',
  'JSON',
  'Intl',
  'Reflect',
  'Proxy',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'Error',
  'AggregateError',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'encodeURI',
  'encodeURIComponent',
  'decodeURI',
  'decodeURIComponent',
  'escape',
  'unescape',
  'eval',
];

// Trusted code, run before the transform in each fresh context. Array.fromAsync (Node 22)
// would hand back a promise.
const PRELUDE = new vm.Script(`(function (allowed) {
  for (const name of Object.getOwnPropertyNames(globalThis)) if (!allowed.includes(name)) delete globalThis[name];
  delete Array.fromAsync;
})(${JSON.stringify(SANDBOX_GLOBALS)});`);

const INPUT = 'hooksdWebhook';

// Runs after the transform, in its context and within its time limit, so that serialising
// the result (toJSON, getters, proxies) happens inside the limit. It answers with a string.
const DRIVER = new vm.Script(`'use strict';
(function (input) {
  const result = handler(JSON.parse(input));
  let text;
  try {
    text = JSON.stringify(result);
  } catch (error) {
    return 'unserialisable:' + String(error && error.message);
  }
  return text === undefined ? 'unserialisable:the handler returned ' + typeof result : 'json:' + text;
})(globalThis.${INPUT});`);

const HAS_HANDLER = new vm.Script(`typeof handler === 'function'`);

const CONTEXT_OPTIONS: vm.CreateContextOptions = {
  codeGeneration: { strings: false, wasm: false },
  // Should a promise job ever be queued despite the above, it runs inside the time limit
  // rather than later on the host's queue.
  microtaskMode: 'afterEvaluate',
};

/** Words whose syntax reaches the host (see above); escaped spellings are a SyntaxError. */
const REFUSED_WORDS = /\b(import|async)\b/;
const REFUSED_REASONS: Record<string, string> = {
  import: 'a transform cannot load modules',
  async: 'a handler runs synchronously',
};

const HEADER_NAME = new RegExp(HEADER_NAME_PATTERN);
/** What Node's http client accepts in a header value. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const MAX_DETAIL = 500;
const WEBHOOK_FIELDS = new Set(['method', 'url', 'headers', 'payload', 'cancel']);

/**
 * Compiles a transform once. Throws a ScriptError of kind `compile` naming the file, line and
 * column of a syntax error, or when the source defines no `handler` function.
 */
export function compileScript(source: string, options: { filename: string; timeoutMs: number }): ScriptTransform {
  const { filename, timeoutMs } = options;
  let script: vm.Script;
  try {
    script = new vm.Script(source, { filename });
  } catch (error) {
    throw new ScriptError('compile', syntaxErrorMessage(filename, error));
  }
  const refused = REFUSED_WORDS.exec(source);
  if (refused) {
    const word = refused[1];
    throw new ScriptError(
      'compile',
      `${filename}:${position(source, refused.index)} "${word}" is not available in transforms, ` +
        `${REFUSED_REASONS[word]} (the word is refused anywhere in the file, even in a string or a comment)`,
    );
  }
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new HooksdError(
      'HOOKSD_PLUGIN_INVALID',
      `the time limit of transform ${filename} must be a positive number of milliseconds, not ${timeoutMs}`,
    );
  }
  const budget = Math.ceil(timeoutMs);
  // What a script threw or returned can be any length; the message goes into attempt records.
  const fail = (kind: ScriptErrorKind, detail: string) =>
    new ScriptError(
      kind,
      `transform ${filename} ${detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail}`,
    );

  /** Runs one step in the context, within what is left of the run's time. */
  const evaluate = (step: vm.Script, context: vm.Context, deadline: number, loading = false): unknown => {
    const timeout = Math.max(1, Math.ceil(deadline - performance.now()));
    try {
      return step.runInContext(context, { timeout, displayErrors: false });
    } catch (error) {
      const when = loading ? ' while loading' : '';
      if (isTimeout(error)) throw fail('timeout', `took longer than ${budget} ms${when}`);
      throw fail(loading ? 'compile' : 'thrown', `threw${when}: ${describeThrown(error)}`);
    }
  };

  const load = (webhookJson: string, loading = false) => {
    const context = vm.createContext(Object.create(null), CONTEXT_OPTIONS);
    PRELUDE.runInContext(context);
    // Set before the transform runs, so no accessor of its making can be on the sandbox yet.
    (context as Record<string, unknown>)[INPUT] = webhookJson;
    const deadline = performance.now() + budget;
    evaluate(script, context, deadline, loading);
    return { context, deadline };
  };

  const probe = load('null', true);
  if (evaluate(HAS_HANDLER, probe.context, probe.deadline, true) !== true)
    throw new ScriptError('compile', `${filename} defines no function handler(webhook)`);

  return {
    run(webhook) {
      const input = JSON.stringify(webhook);
      const { context, deadline } = load(input);
      const answer = evaluate(DRIVER, context, deadline);
      if (typeof answer === 'string' && answer.startsWith('unserialisable:'))
        throw fail('invalid-result', `returned a result that is not JSON: ${answer.slice('unserialisable:'.length)}`);
      const result =
        typeof answer === 'string' && answer.startsWith('json:') ? parseJson(answer.slice('json:'.length)) : undefined;
      // Only a script that replaced JSON.stringify gets here without a result.
      if (result === undefined) throw fail('invalid-result', 'returned something that could not be read as JSON');
      const checked = webhookProblem(result);
      if (typeof checked === 'string') throw fail('invalid-result', `returned an invalid webhook: ${checked}`);
      return checked;
    },
  };
}

/** Reads and compiles a transform file; errors name the path. Meant for start-up, so synchronous. */
export function loadScript(path: string, timeoutMs: number): ScriptTransform {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScriptError('compile', `transform ${path} cannot be read: ${(error as Error).message}`);
  }
  return compileScript(source, { filename: path, timeoutMs });
}

/**
 * The transform plugin: a consumer's `transform:` names its script, relative to the config
 * file. Each script is compiled once per loaded config, so a reload picks up edits.
 */
export const scriptPlugin: PluginDefinition<'transform', { timeout: string }> = {
  name: 'script',
  kind: 'transform',
  description:
    "Runs the consumer's `transform:` script, a JavaScript file defining `function handler(webhook)` that returns " +
    'the webhook (`method`, `url`, `headers`, `payload`: the whole envelope, `cancel`), changed or with `cancel: ' +
    "true`. Each run has a fresh context with the language's built-ins only (no require, process, timers or fetch) " +
    'and a time limit.',
  optionsSchema: scriptOptionsSchema,
  example:
    'pipeline: [eventTypes, payloadFilter, { use: script, options: { timeout: 100ms } }, standardWebhooks, schedule]',
  create: ({ timeout }, context) => {
    const timeoutMs = parseDuration(timeout);
    if (timeoutMs === 0) throw new HooksdError('HOOKSD_PLUGIN_INVALID', 'options.timeout must be longer than 0');
    const compiled = new Map<string, ScriptTransform>();
    return {
      forConsumer(consumer) {
        if (consumer.transform === undefined) return null;
        const file = path.resolve(context.configDir, consumer.transform);
        let transform = compiled.get(file);
        if (transform === undefined) {
          transform = loadScript(file, timeoutMs);
          compiled.set(file, transform);
        }
        return transform.run;
      },
    };
  },
};

/** The checked webhook, or what is wrong with it, naming the field. */
function webhookProblem(result: unknown): ScriptWebhook | string {
  if (!isRecord(result)) {
    const what = result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result;
    return `the handler must return the webhook object, not ${what}`;
  }
  const unknown = Object.keys(result).find((key) => !WEBHOOK_FIELDS.has(key));
  if (unknown !== undefined) return `unknown field "${unknown}" (a webhook has ${[...WEBHOOK_FIELDS].join(', ')})`;
  const { method, url, headers, payload, cancel } = result;
  if (method !== 'POST' && method !== 'PUT') return `method must be "POST" or "PUT", not ${JSON.stringify(method)}`;
  if (typeof url !== 'string' || !isHttpUrl(url)) return `url must be an http(s) URL, not ${JSON.stringify(url)}`;
  if (!isRecord(headers)) return 'headers must be an object of strings';
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) return `headers: ${JSON.stringify(name)} is not a header name`;
    if (isReservedHeader(name)) return `headers: "${name}" is set by hooksd and cannot be changed`;
    if (typeof value !== 'string')
      return `headers["${name}"] must be a string, not ${value === null ? 'null' : typeof value}`;
    if (INVALID_HEADER_VALUE.test(value)) return `headers["${name}"] contains a character a header value cannot hold`;
  }
  if (!('payload' in result)) return 'payload is missing (undefined is not JSON; use null)';
  if (typeof cancel !== 'boolean') return `cancel must be true or false, not ${JSON.stringify(cancel)}`;
  return { method, url, headers: headers as Record<string, string>, payload, cancel };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Node's own timeout error, as thrown by runInContext. */
function isTimeout(error: unknown): boolean {
  return ownData(error, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/**
 * The message of a value the script threw, read without running any of its code: no getter,
 * no proxy trap, no prototype walk, as those would run outside the time limit.
 */
function describeThrown(thrown: unknown): string {
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) return String(thrown);
  const message = ownData(thrown, 'message');
  return typeof message === 'string' ? message : 'a value that is not an Error';
}

function ownData(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || types.isProxy(value))
    return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

/**
 * `file:line:column message` of a SyntaxError from `new vm.Script`: V8 gives the position
 * only in the stack, as `file:line`, then the source line, then a caret under the column.
 */
function syntaxErrorMessage(filename: string, error: unknown): string {
  const { message, stack = '' } = error as Error;
  const [where, , caretLine = ''] = stack.split('\n');
  const line = where.startsWith(`${filename}:`) ? where.slice(filename.length + 1) : '';
  if (!/^\d+$/.test(line)) return `${filename} ${message}`;
  // At the end of the input V8 pads the caret line to the column but draws no caret.
  const column = caretLine.includes('^')
    ? caretLine.indexOf('^') + 1
    : /^ +$/.test(caretLine)
      ? caretLine.length + 1
      : undefined;
  return `${filename}:${line}${column === undefined ? '' : `:${column}`} ${message}`;
}

function position(source: string, index: number): string {
  const before = source.slice(0, index).split(/\r\n|[\n\r\u2028\u2029]/);
  return `${before.length}:${before[before.length - 1].length + 1}`;
}
