// Writes docs/config.md, docs/api.md, docs/plugins.md and docs/errors.md from the code (run
// after a build: npm run docs). Tests fail when any of them is stale.
import { writeFileSync } from 'node:fs';
import { BUILT_IN_PLUGINS } from '../dist/daemon/dispatch/plugin-loader.js';
import { apiRoutes, renderApiDocs } from '../dist/daemon/main/api-docs.js';
import { renderConfigDocs } from '../dist/daemon/main/config-docs.js';
import { renderErrorDocs, renderPluginDocs } from '../dist/daemon/main/docs.js';

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigDocs());
writeFileSync(new URL('../docs/api.md', import.meta.url), renderApiDocs(apiRoutes()));
writeFileSync(new URL('../docs/plugins.md', import.meta.url), renderPluginDocs(BUILT_IN_PLUGINS));
writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
