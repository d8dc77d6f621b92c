#!/usr/bin/env node
// Copies the data files the compiled code reads at run time next to it in dist/, so that dist/
// (which is what the Docker image ships) works on its own: config/legacy-rules.yaml, read by
// `hooksd migrate-rules` from ../../config/ relative to daemon/main/.
import { copyFileSync, mkdirSync } from 'node:fs';

const DATA_FILES = ['config/legacy-rules.yaml'];

for (const file of DATA_FILES) {
  const target = new URL(`../dist/${file}`, import.meta.url);
  mkdirSync(new URL('.', target), { recursive: true });
  copyFileSync(new URL(`../${file}`, import.meta.url), target);
}
