#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-old-space-size=256 --max-semi-space-size=32
// The heap flags keep the daemon's memory bounded: left alone, V8 lets garbage pile up in
// proportion to the machine's memory before it collects. The young generation is large, so
// that fewer short-lived objects (requests in flight, batches being written) live long
// enough to be promoted to the old one, which cut CPU per delivery by about a quarter under
// load (see BENCHMARKS.md). MALLOC_ARENA_MAX=2 stops glibc from keeping a malloc arena per
// thread (LevelDB and libuv work on several), which saves about 25 MB of resident memory.
// Run this file directly (npx hooksd, ./bin/hooksd.js, the Docker entrypoint) so they apply.
import { main } from '../dist/daemon/main/cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
