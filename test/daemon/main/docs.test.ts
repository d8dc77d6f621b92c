import t from 'tap';
import { readFileSync } from 'node:fs';
import { apiRoutes, renderApiDocs } from '../../../daemon/main/api-docs.js';
import { configKeys, renderConfigDocs } from '../../../daemon/main/config-docs.js';
import { renderErrorDocs, renderPluginDocs } from '../../../daemon/main/docs.js';
import { ERROR_CODES } from '../../../daemon/common/errors.js';
import { BUILT_IN_PLUGINS } from '../../../daemon/dispatch/plugin-loader.js';

const doc = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

t.test('docs - docs/errors.md is generated from the code list and up to date (npm run docs)', async (t) => {
  t.equal(doc('errors.md'), renderErrorDocs());
  for (const code of Object.keys(ERROR_CODES)) t.match(doc('errors.md'), `| \`${code}\` |`);
});

t.test('docs - docs/plugins.md is generated from the plugin schemas and up to date (npm run docs)', async (t) => {
  t.equal(doc('plugins.md'), renderPluginDocs(BUILT_IN_PLUGINS));
  for (const plugin of BUILT_IN_PLUGINS) t.match(doc('plugins.md'), `## ${plugin.name}`);
});

t.test('docs - docs/config.md is generated from the config schema and up to date (npm run docs)', async (t) => {
  t.equal(doc('config.md'), renderConfigDocs());
  const keys = configKeys();
  t.ok(keys.length > 50, `${keys.length} keys`);
  // Each top-level key heads its own part; every key below it has a row.
  for (const { path } of keys) t.match(doc('config.md'), /^\w+$/.test(path) ? `\n## ${path}\n` : `| \`${path}\` |`);
});

t.test('docs - every key of the config schema has a description', async (t) => {
  t.same(
    configKeys()
      .filter(({ schema }) => !schema.description)
      .map(({ path }) => path),
    [],
  );
});

t.test('docs - config keys are dotted paths with [] for list items, and required keys say so', async (t) => {
  const config = renderConfigDocs();
  t.match(config, '| `delivery.network.allowCidrs` | list of addresses or CIDR ranges | `[]` |');
  t.match(config, '| `consumers[].id` | string | required |');
  t.match(config, '| `server.auth.tokens[].scopes` | list of `"read"` \\| `"admin"` \\| `"publish"` | required |');
  t.match(config, '| `ingest.unknownTypes` | `"reject"` \\| `"deliver"` | `"reject"` |');
  t.match(config, '| `consumers[].headers` | map of strings | `{}` |');
  // The retry policy is the schedule plugin's: its options are in docs/plugins.md.
  t.notMatch(config, 'delivery.retrySchedule');
});

t.test('docs - durations show as durations in the config and the plugin docs', async (t) => {
  const config = renderConfigDocs();
  t.match(config, '| `delivery.timeout` | duration | `"15s"` |');
  t.match(config, '| `consumers[].retrySchedule` | list of durations |  |');
  const plugins = renderPluginDocs(BUILT_IN_PLUGINS);
  t.match(plugins, '| `schedule` | list of durations | `["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"]` |');
  t.match(plugins, '| `overloadFloor` | duration | `"60s"` |');
});

t.test('docs - docs/api.md is generated from the route table and up to date (npm run docs)', async (t) => {
  const routes = apiRoutes();
  t.equal(doc('api.md'), renderApiDocs(routes));
  t.ok(routes.length > 20, `${routes.length} routes`);
  for (const route of routes) t.match(doc('api.md'), `### \`${route.method.toUpperCase()} ${route.path}\``);
  t.match(doc('api.md'), '| `consumerId` | string |', 'query parameters are listed');
  t.match(doc('api.md'), /\| `url` \| uri string \| required \|/, 'body fields are listed, required ones marked');
});
