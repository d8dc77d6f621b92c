import type { Logger } from 'pino';
import type { DeliveryError, DeliveryMinuteRecord } from '../store/records.js';
import type { BatchOp, Store } from '../store/store.js';
import type { AttemptFeed, AttemptSummary } from './attempt-feed.js';
import { addTo, bucketOf, percentile, type Histogram } from './latency-histogram.js';

const MINUTE = 60_000;
/** Stats cover the last day, the longest window. */
export const KEPT_MS = 24 * 60 * MINUTE;
/** Minutes stay in the store an hour longer than in memory, then the next flush removes them. */
const STORE_GRACE_MS = 60 * MINUTE;
const FLUSH_EVERY_MS = MINUTE;

/** The spans stats are asked for, and the steps they are cut in. */
export const WINDOWS = { '15m': 15 * MINUTE, '1h': 60 * MINUTE, '6h': 360 * MINUTE, '24h': KEPT_MS } as const;
export const STEPS = { '1m': MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '1h': 60 * MINUTE } as const;

/** One consumer's attempts in one minute. */
interface Tally {
  success: number;
  failure: number;
  latency: Histogram;
  lastError: DeliveryError | null;
}

export interface StatsTotals {
  success: number;
  failure: number;
  /** success ÷ attempts, null when there were none. */
  successRatio: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Attempts per minute from the window's start to now. */
  perMinute: number;
}

export interface StatsStep {
  /** The step's start, ms since the epoch. */
  at: number;
  success: number;
  failure: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** A span of stats: from `from` (included) to `to` (excluded), ms since the epoch; `to` is the running step's end. */
export interface StatsSpan {
  from: number;
  to: number;
  totals: StatsTotals;
  lastError: DeliveryError | null;
}

const emptyTally = (): Tally => ({ success: 0, failure: 0, latency: new Map(), lastError: null });
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Delivery statistics per consumer, from the attempt feed: per minute, attempts by outcome
 * and a histogram of their durations (latency-histogram.ts), for the last day, in memory.
 * Any span of it is read by adding up minutes, never by reading messages. Minutes that
 * changed are written to the store once a minute (one small record per consumer and minute)
 * and when hooksd stops, and read back at start, so a restart keeps the charts; a crash
 * loses at most the last minute. Minutes older than a day leave memory, and the store an
 * hour later.
 */
export class DeliveryStats {
  /** Consumer → minute start → tally. */
  private readonly minutes = new Map<string, Map<number, Tally>>();
  private readonly lastErrors = new Map<string, DeliveryError>();
  /** Tallies changed since the last flush, with what they are the tally of. */
  private dirty = new Map<Tally, { consumerId: string; minute: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /** Reads the last day's minutes from the store. */
  async load(now = Date.now()): Promise<void> {
    for (const record of await this.store.scans.deliveryMinutesSince(startOfMinute(now) - KEPT_MS)) {
      const tally: Tally = {
        success: record.success,
        failure: record.failure,
        latency: new Map(record.latency),
        lastError: record.lastError,
      };
      this.tallies(record.consumerId).set(record.minute, tally);
      if (record.lastError !== null) this.noteError(record.consumerId, record.lastError);
    }
  }

  /** Counts every attempt the feed tells of; returns the function that stops. */
  follow(feed: Pick<AttemptFeed, 'subscribe'>): () => void {
    return feed.subscribe((summary) => this.record(summary));
  }

  /** Writes changed minutes once a minute until `stop`. */
  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(summary: AttemptSummary, now = Date.now()): void {
    const at = Date.parse(summary.at);
    const minute = startOfMinute(at);
    if (minute < startOfMinute(now) - KEPT_MS) return;
    const tallies = this.tallies(summary.consumerId);
    let tally = tallies.get(minute);
    if (tally === undefined) {
      tally = emptyTally();
      tallies.set(minute, tally);
    }
    tally[summary.outcome] += 1;
    addTo(tally.latency, [[bucketOf(summary.durationMs), 1]]);
    if (summary.outcome === 'failure') {
      const error: DeliveryError = {
        at,
        messageId: summary.messageId,
        statusCode: summary.statusCode,
        errorClass: summary.errorClass,
        error: summary.error,
      };
      if (tally.lastError === null || tally.lastError.at <= at) tally.lastError = error;
      this.noteError(summary.consumerId, error);
    }
    this.dirty.set(tally, { consumerId: summary.consumerId, minute });
  }

  /** The consumer's attempts over `window` ms up to now, in steps of `step` ms aligned on multiples of it. */
  steps(consumerId: string, window: number, step: number, now = Date.now()): StatsSpan & { steps: StatsStep[] } {
    const to = Math.floor(now / step) * step + step;
    const from = to - window;
    const steps = Array.from({ length: Math.ceil(window / step) }, () => emptyTally());
    for (const [minute, tally] of this.within(consumerId, from, to))
      add(steps[Math.floor((minute - from) / step)], tally);
    return {
      ...this.span(consumerId, from, to, now),
      steps: steps.map((tally, i) => ({
        at: from + i * step,
        success: tally.success,
        failure: tally.failure,
        p50Ms: percentile(tally.latency, 0.5),
        p95Ms: percentile(tally.latency, 0.95),
      })),
    };
  }

  /** The consumer's attempts over the last `window` ms, in whole minutes (lastMinutes). */
  totals(consumerId: string, window: number, now = Date.now()): StatsSpan {
    const { from, to } = lastMinutes(window, now);
    return this.span(consumerId, from, to, now);
  }

  /** Writes the minutes that changed since the last time, and removes those that aged out. */
  flush(now = Date.now()): Promise<void> {
    // One flush at a time: a second one waits for the first, then writes what is left.
    const previous = this.flushing ?? Promise.resolve();
    const next = previous.then(() => this.write(now));
    this.flushing = next.finally(() => {
      if (this.flushing === next) this.flushing = undefined;
    });
    return next;
  }

  private async write(now: number): Promise<void> {
    // Stopped twice, or never started: there is no store to write to.
    if (!this.store.isOpen) return;
    const oldest = startOfMinute(now) - KEPT_MS;
    for (const tallies of this.minutes.values()) {
      for (const minute of tallies.keys()) if (minute < oldest) tallies.delete(minute);
    }
    const written = this.dirty;
    this.dirty = new Map();
    const ops: BatchOp[] = [];
    for (const [tally, { consumerId, minute }] of written) {
      if (minute >= oldest) ops.push(...this.store.deliveryMinuteOps(recordOf(consumerId, minute, tally)));
    }
    try {
      for await (const key of this.store.scans.deliveryMinuteKeysBefore(oldest - STORE_GRACE_MS)) {
        ops.push(...this.store.deliveryMinuteDeleteOps(key));
      }
      if (ops.length > 0) await this.store.write(ops);
    } catch (error) {
      // Written with the next flush, unless counted again meanwhile (then it is dirty anyway).
      for (const [tally, what] of written) if (!this.dirty.has(tally)) this.dirty.set(tally, what);
      this.log.warn({ err: error }, 'delivery stats could not be written: trying again in a minute');
    }
  }

  private span(consumerId: string, from: number, to: number, now: number): StatsSpan {
    const sum = emptyTally();
    for (const [, tally] of this.within(consumerId, from, to)) add(sum, tally);
    const attempts = sum.success + sum.failure;
    const lastError = this.lastErrors.get(consumerId);
    return {
      from,
      to,
      totals: {
        success: sum.success,
        failure: sum.failure,
        successRatio: attempts === 0 ? null : round(sum.success / attempts, 4),
        p50Ms: percentile(sum.latency, 0.5),
        p95Ms: percentile(sum.latency, 0.95),
        perMinute: round(attempts / (Math.max(MINUTE, Math.min(now, to) - from) / MINUTE), 2),
      },
      lastError: lastError !== undefined && lastError.at >= now - KEPT_MS ? lastError : null,
    };
  }

  private *within(consumerId: string, from: number, to: number): Generator<[number, Tally]> {
    for (const entry of this.minutes.get(consumerId) ?? []) if (entry[0] >= from && entry[0] < to) yield entry;
  }

  private tallies(consumerId: string): Map<number, Tally> {
    let tallies = this.minutes.get(consumerId);
    if (tallies === undefined) {
      tallies = new Map();
      this.minutes.set(consumerId, tallies);
    }
    return tallies;
  }

  private noteError(consumerId: string, error: DeliveryError): void {
    const known = this.lastErrors.get(consumerId);
    if (known === undefined || known.at <= error.at) this.lastErrors.set(consumerId, error);
  }
}

/** The last `window` ms in whole minutes, the running one included: its start, and the running minute's end. */
export function lastMinutes(window: number, now: number): { from: number; to: number } {
  const to = startOfMinute(now) + MINUTE;
  return { from: to - window, to };
}

function startOfMinute(ms: number): number {
  return ms - (((ms % MINUTE) + MINUTE) % MINUTE);
}

function add(into: Tally, from: Tally): void {
  into.success += from.success;
  into.failure += from.failure;
  addTo(into.latency, from.latency);
}

function recordOf(consumerId: string, minute: number, tally: Tally): DeliveryMinuteRecord {
  const { success, failure, lastError } = tally;
  return { consumerId, minute, success, failure, latency: [...tally.latency], lastError };
}
