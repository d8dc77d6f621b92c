import { randomInt } from 'node:crypto';
import type fc from 'fast-check';
import type { Test } from 'tap';

/**
 * fast-check's settings for a fuzzer, from the environment so that a failure can be replayed:
 * FUZZ_SEED (and FUZZ_PATH, which fast-check prints with a failure, to go straight to the shrunk
 * case) repeat a run; FUZZ_RUNS changes how many cases are tried. The seed is printed first,
 * so even a run stopped by a timeout can be repeated.
 */
export function fuzzParameters<T>(t: Test, defaultRuns: number): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.FUZZ_SEED);
  const numRuns = process.env.FUZZ_RUNS === undefined ? defaultRuns : Number(process.env.FUZZ_RUNS);
  const path = process.env.FUZZ_PATH;
  t.comment(`fast-check seed ${seed}${path === undefined ? '' : `, path ${path}`}, ${numRuns} runs`);
  return { seed, numRuns, ...(path === undefined ? {} : { path }) };
}

/** Counts by name, printed as one line. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(name: string, by = 1): void {
    this.counts.set(name, this.get(name) + by);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  all(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** `name count, ...`, the largest counts first. */
  toString(): string {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
  }
}
