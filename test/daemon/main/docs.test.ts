import t from 'tap';
import { readFileSync } from 'node:fs';
import { renderErrorDocs, renderPluginDocs } from '../../../daemon/main/docs.js';
import { ERROR_CODES } from '../../../daemon/common/errors.js';
import { BUILT_IN_PLUGINS } from '../../../daemon/dispatch/pipeline.js';

const doc = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

t.test('docs - docs/errors.md is generated from the code list and up to date (npm run docs)', async (t) => {
  t.equal(doc('errors.md'), renderErrorDocs());
  for (const code of Object.keys(ERROR_CODES)) t.match(doc('errors.md'), `| \`${code}\` |`);
});

t.test('docs - docs/plugins.md is generated from the plugin schemas and up to date (npm run docs)', async (t) => {
  t.equal(doc('plugins.md'), renderPluginDocs(BUILT_IN_PLUGINS));
  for (const plugin of BUILT_IN_PLUGINS) t.match(doc('plugins.md'), `## ${plugin.name}`);
});
