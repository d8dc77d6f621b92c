/** Small, dependency-free statistics for the benchmark's figures. */

/** The value below which `p` percent of `sorted` lies (nearest rank); NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentiles of publish-to-delivery latencies, in milliseconds. */
export function latency(samplesMs: readonly number[]): Latency {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
  };
}

/**
 * Sustained rate of arrivals: deliveries between the first and the last arrival, per second.
 * The first arrival starts the clock, so start-up and connection set-up are not counted.
 */
export function ratePerSecond(count: number, firstAt: number, lastAt: number): number {
  if (count < 2 || lastAt <= firstAt) return Number.NaN;
  return ((count - 1) * 1000) / (lastAt - firstAt);
}

/** `a / b`, NaN when either is missing. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : Number.NaN;
}

/** A figure for the table: fixed digits, "-" when missing. */
export function fmt(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}
