#!/usr/bin/env node
// Bundles the operator's console (console/) into dist/ui: index.html, and under assets/ the
// script, the stylesheet and the icon, each named with a hash of its content so the daemon can
// serve them with a long cache (daemon/api/console-files.ts). Prints the sizes.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
const out = new URL('dist/ui/', root);
const assets = new URL('assets/', out);
rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: [new URL('console/src/main.tsx', root).pathname],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assets.pathname,
  entryNames: 'console-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const written = Object.keys(result.metafile.outputs).map((file) => basename(file));
const icon = readFileSync(new URL('console/icon.svg', root));
const iconName = `icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
writeFileSync(new URL(iconName, assets), icon);
const names = {
  js: written.find((name) => name.endsWith('.js')),
  css: written.find((name) => name.endsWith('.css')),
  icon: iconName,
};
const html = readFileSync(new URL('console/index.html', root), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key) => {
  if (!names[key]) throw new Error(`console/index.html names {{${key}}}, which the build did not make`);
  return names[key];
});
writeFileSync(new URL('index.html', out), html);

const sizes = [names.js, names.css].map((name) => {
  const bytes = readFileSync(new URL(name, assets));
  return `${name} ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzip)`;
});
console.log(`console: dist/ui: ${sizes.join(', ')}`);
