/**
 * A fixed log-scale histogram of attempt durations, so percentiles over any span are read
 * from a few counts instead of every attempt. Bucket i holds durations from FLOORS[i] ms up
 * to the next floor; floors grow by 2^(1/4) (about 19 %), rounded up to whole milliseconds,
 * past 10 minutes (the last bucket holds everything longer). A percentile is the middle of
 * the bucket holding it (the geometric mean of its smallest and largest whole millisecond),
 * so it is off by at most MAX_RELATIVE_ERROR of the true value, plus 0.05 ms of rounding.
 */

const LONGEST_MS = 600_000;

function floors(): number[] {
  const found = [0];
  for (let k = 0; found[found.length - 1] <= LONGEST_MS; k++) {
    const floor = Math.ceil(2 ** (k / 4));
    if (floor > found[found.length - 1]) found.push(floor);
  }
  return found;
}

/** The smallest duration of each bucket, in ms. */
export const FLOORS: readonly number[] = floors();
export const BUCKETS = FLOORS.length;
/** The most a percentile differs from the true one, as a fraction of it (below LONGEST_MS). */
export const MAX_RELATIVE_ERROR = 0.1;

/** The bucket of a duration in ms. */
export function bucketOf(ms: number): number {
  let low = 0;
  let high = BUCKETS - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (FLOORS[mid] <= ms) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The duration a bucket stands for, in ms with one decimal. */
export function bucketValue(index: number): number {
  const low = FLOORS[index];
  if (index === 0 || index === BUCKETS - 1) return low;
  const high = FLOORS[index + 1] - 1;
  return Math.round(Math.sqrt(low * high) * 10) / 10;
}

/** Counts by bucket; only buckets that hold something are present. */
export type Histogram = Map<number, number>;

export function addTo(into: Histogram, from: ReadonlyMap<number, number> | Iterable<[number, number]>): void {
  for (const [bucket, count] of from) into.set(bucket, (into.get(bucket) ?? 0) + count);
}

/**
 * The nearest-rank percentile `p` (0 to 1) of the durations counted, in ms; null when none
 * were: the value of the bucket holding the ⌈p·n⌉-th smallest duration.
 */
export function percentile(histogram: Histogram, p: number): number | null {
  let total = 0;
  for (const count of histogram.values()) total += count;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return bucketValue(bucket);
  }
  return null;
}
