#!/usr/bin/env -S node --max-old-space-size=256 --max-semi-space-size=8
// The heap flags keep the daemon's memory bounded: left alone, V8 lets garbage pile up in
// proportion to the machine's memory before it collects. Run this file directly (npx hooksd,
// ./bin/hooksd.js, the Docker entrypoint) so they apply.
import { main } from '../dist/daemon/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
