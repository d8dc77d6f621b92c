import type { JetStreamManager } from 'nats';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000];

/**
 * hooksd's Prometheus metrics, on a registry of their own. Counters are bumped by the parts
 * that do the work; the gauges that need a lookup (pending retries, NATS lag) are read when
 * scraped. Per-consumer series are cached so the hot path does one map lookup per attempt.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsIngested = new Counter({
    name: 'hooksd_events_ingested_total',
    help: 'Events received from NATS and stored',
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'hooksd_dead_letters_total',
    help: 'Events refused at ingest and kept in the dead-letter log',
    registers: [this.registry],
  });
  private readonly statusChanges = new Counter({
    name: 'hooksd_messages_total',
    help: 'Messages that reached each status (a message counts once per status it enters)',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: 'hooksd_attempts_total',
    help: 'Delivery attempts by consumer and outcome',
    labelNames: ['consumer', 'outcome'],
    registers: [this.registry],
  });
  private readonly attemptDuration = new Histogram({
    name: 'hooksd_attempt_duration_seconds',
    help: 'Duration of delivery attempts, by consumer',
    labelNames: ['consumer'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly deliveryLatency = new Histogram({
    name: 'hooksd_delivery_latency_seconds',
    help: 'From the message being created (the event received) to its successful attempt',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly sweeperLag = new Gauge({
    name: 'hooksd_sweeper_lag_seconds',
    help: 'How late the most overdue message handed over by the last sweep was',
    registers: [this.registry],
  });
  private readonly perConsumer = new Map<string, { success: Counter; failure: Counter; duration: Histogram }>();

  constructor() {
    // process_* and nodejs_* (CPU, memory, event loop lag, GC, handles) beside hooksd's own.
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A listener for the store's status changes (told after each write); `pending` answers how
   * many messages wait for a retry now, read when scraped.
   */
  followStatuses(pending: () => number): (changes: Map<string, number>) => void {
    const gauge: Gauge = new Gauge({
      name: 'hooksd_retries_pending',
      help: 'Messages waiting for a scheduled retry (status attempting)',
      registers: [this.registry],
      collect: () => gauge.set(pending()),
    });
    return (changes) => {
      for (const [status, delta] of changes) if (delta > 0) this.statusChanges.inc({ status }, delta);
    };
  }

  /** Reports the store's LevelDB operations (puts and deletes written) when scraped. */
  watchStore(operations: () => number): void {
    let reported = 0;
    const counter: Counter = new Counter({
      name: 'hooksd_store_operations_total',
      help: 'LevelDB operations written (each put and delete of every batch)',
      registers: [this.registry],
      collect() {
        const now = operations();
        counter.inc(now - reported);
        reported = now;
      },
    });
  }

  /** Reports the NATS durable consumer's backlog when scraped. */
  watchNats(jsm: JetStreamManager, stream: string, durable: string): void {
    new Gauge({
      name: 'hooksd_nats_pending_messages',
      help: 'Events in the stream not yet pulled by hooksd (the durable consumer lag)',
      registers: [this.registry],
      async collect() {
        const info = await jsm.consumers.info(stream, durable).catch(() => undefined);
        if (info !== undefined) this.set(info.num_pending);
      },
    });
  }

  /**
   * Which instance these series come from: every series carries `instance="<instance.id>"`
   * (Prometheus, which sets its own `instance` to the scraped address, keeps it as
   * `exported_instance` unless the scrape job honours labels), and an info metric
   * (`hooksd_instance_info{instance_id} 1`) joins the id onto Prometheus's own label; and how
   * many instances of the group are alive, read when scraped.
   */
  identify(instanceId: string, liveInstances: () => number): void {
    this.registry.setDefaultLabels({ instance: instanceId });
    new Gauge({
      name: 'hooksd_instance_info',
      help: "This instance's id (instance.id); always 1",
      labelNames: ['instance_id'],
      registers: [this.registry],
    }).set({ instance_id: instanceId }, 1);
    const live: Gauge = new Gauge({
      name: 'hooksd_instances_live',
      help: 'Instances of the group alive as this one sees them, itself included',
      registers: [this.registry],
      collect: () => live.set(liveInstances()),
    });
  }

  /**
   * This instance's share of each consumer's rateLimit and concurrency (they hold for the
   * group: dispatch/group-shares.ts), read when scraped; a consumer without a rateLimit has no
   * rate series.
   */
  watchShares(shares: () => Array<{ consumer: string; rateLimit?: number; concurrency: number }>): void {
    const rate: Gauge = new Gauge({
      name: 'hooksd_consumer_rate_share',
      help: "Requests per second this instance may send to the consumer: its share of the consumer's rateLimit",
      labelNames: ['consumer'],
      registers: [this.registry],
      collect: () => {
        rate.reset();
        for (const share of shares())
          if (share.rateLimit !== undefined) rate.set({ consumer: share.consumer }, share.rateLimit);
      },
    });
    const concurrency: Gauge = new Gauge({
      name: 'hooksd_consumer_concurrency_share',
      help: "Requests this instance may have in flight to the consumer: its share of the consumer's concurrency",
      labelNames: ['consumer'],
      registers: [this.registry],
      collect: () => {
        concurrency.reset();
        for (const share of shares()) concurrency.set({ consumer: share.consumer }, share.concurrency);
      },
    });
  }

  attempted(consumerId: string, outcome: 'success' | 'failure', durationMs: number, createdAt: number): void {
    let series = this.perConsumer.get(consumerId);
    if (series === undefined) {
      series = {
        success: this.attempts.labels(consumerId, 'success') as unknown as Counter,
        failure: this.attempts.labels(consumerId, 'failure') as unknown as Counter,
        duration: this.attemptDuration.labels(consumerId) as unknown as Histogram,
      };
      this.perConsumer.set(consumerId, series);
    }
    series[outcome].inc();
    series.duration.observe(durationMs / 1000);
    if (outcome === 'success') this.deliveryLatency.observe((Date.now() - createdAt) / 1000);
  }

  swept(lagMs: number): void {
    this.sweeperLag.set(lagMs / 1000);
  }
}
