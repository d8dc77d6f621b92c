import { readFileSync } from 'node:fs';

/** The package's version, found from the sources (tests) or from dist/ (the built daemon). */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')).version;
    } catch {
      // not at this depth
    }
  }
  return 'unknown';
}
