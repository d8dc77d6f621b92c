import type { PluginDefinition, PluginKind } from '../../plugins/contract.js';
import { ERROR_CODES } from '../common/errors.js';
import { cell, schemaType, showValue, type DocSchema } from './schema-words.js';

/** docs/plugins.md, generated from each plugin's definition: its options table comes from its schema. */
export function renderPluginDocs(plugins: readonly PluginDefinition<PluginKind, never>[]): string {
  const lines = [
    '# Plugins',
    '',
    '<!-- Generated from the plugin definitions by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'Every delivery runs through the plugins of `pipeline:` in hooks.config.yaml, in order, then',
    "through the consumer's own `plugins:`. An entry is a built-in name or a module path (relative",
    'to the config file), or `{ use: NAME_OR_PATH, options: {...} }`. Kinds: `filter` (does the',
    'consumer get the event?), `transform` (change method, url, headers or body, or cancel),',
    '`sign` (signature headers; exactly one) and `retry` (when to try again; exactly one). The',
    'contract is in `plugins/contract.ts`; `examples/plugins/tenant-header.js` is a custom plugin.',
    '',
    'The default pipeline is `[eventTypes, payloadFilter, script, standardWebhooks, schedule]`.',
    '',
    'The fifth kind, `transport`, sends the requests. It is named by `delivery.transport` (the',
    'same entry forms), not in a pipeline; `got` is the default. Its instance has',
    '`send(request)`, where `request` holds `method`, `url`, `headers` (all of them, content-type',
    'and user-agent included), `body`, `timeout` (ms for the whole request, the response body',
    "included), `maxResponseBytes`, `agents` (the consumer's keep-alive `http` and `https` agents,",
    'which carry its TLS files), `tls` (the same files, for a client without agents) and `lookup`',
    "(node's `dns.lookup` with the network policy's checks: resolve host names with it and connect",
    'to the address it answers; redirects are not followed). It resolves to',
    '`{ response: { statusCode, headers, body, truncated }, timings, steps }` or, when the request did',
    "not end with a whole body, `{ error, ... }`: the error's code gives the attempt's class",
    '(ETIMEDOUT or a TimeoutError: `timeout`; ENOTFOUND: `dns`; ERR_TLS_… or CERT_…: `tls`; others:',
    '`connect`). A `send` that throws or answers something else fails the attempt with a message',
    'naming the transport; one that has not answered 5 s after the timeout fails it as a',
    '`timeout`; a body past `maxResponseBytes` is cut. With `delivery.workers`, each worker thread',
    'loads the module and calls `create` again with the same options, so a transport keeps no',
    'state that must be shared. `examples/plugins/proxy-transport.js` is a custom transport.',
  ];
  for (const plugin of plugins) {
    lines.push('', `## ${plugin.name}`, '', `Kind: \`${plugin.kind}\`.`, '', plugin.description, '');
    const properties = Object.entries((plugin.optionsSchema as DocSchema).properties ?? {});
    if (properties.length === 0) {
      lines.push('Options: none.');
    } else {
      lines.push('| option | type | default | description |', '|---|---|---|---|');
      for (const [name, schema] of properties) {
        const fallback = schema.default === undefined ? '' : `\`${cell(showValue(schema.default))}\``;
        lines.push(`| \`${name}\` | ${schemaType(schema)} | ${fallback} | ${cell(schema.description ?? '')} |`);
      }
    }
    lines.push('', 'Example:', '', '```yaml', plugin.example, '```');
  }
  return lines.join('\n') + '\n';
}

/** docs/errors.md, from the code list in errors.ts. */
export function renderErrorDocs(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from daemon/common/errors.ts by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'Every error hooksd shows (API answers, CLI messages) carries one of these codes. API errors',
    'are `{"code", "message", "details"}` with the HTTP status below; messages of 5xx errors are',
    'kept in the log, not sent.',
    '',
    '| code | status | meaning |',
    '|---|---|---|',
  ];
  for (const [code, { status, meaning }] of Object.entries(ERROR_CODES))
    lines.push(`| \`${code}\` | ${status} | ${meaning} |`);
  return lines.join('\n') + '\n';
}
