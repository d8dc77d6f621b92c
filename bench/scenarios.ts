/**
 * What each benchmark scenario publishes and who receives it. hooksd gets the consumers as
 * YAML (`eventTypes`, `filter`); the baseline loops get the same routing as plain predicates,
 * so both deliver exactly the same requests.
 */

export interface BenchEvent {
  eventType: string;
  payload: Record<string, unknown>;
}

export interface ConsumerSpec {
  id: string;
  /** Path on the receiver; the receiver counts per path. */
  path: string;
  eventTypes: string[];
  /** hooksd's payload filter. */
  filter?: Record<string, unknown>;
  /** The same filter as code, for the baseline loops. */
  matches?: (event: BenchEvent) => boolean;
  retrySchedule?: string[];
  /** The receiver answers 500 on this consumer's path. */
  fails?: boolean;
}

export interface Scenario {
  name: string;
  title: string;
  eventTypes: string[];
  consumers: ConsumerSpec[];
  /** The i-th event published. */
  event(i: number): BenchEvent;
  /** Events published: at full speed, or at `rate` per second. */
  events: { full: number; quick: number };
  rate?: number;
  /**
   * Events published first, at the same rate, whose latencies are left out: the first seconds
   * of a run measure a cold start (JIT compilation, connections, the queue that builds while
   * code is cold and then drains), not the sustained rate.
   */
  warmup?: { full: number; quick: number };
  receiverDelayMs: number;
  /** Whether the quick mode runs it. */
  quick: boolean;
}

const PAD = 'x'.repeat(160);
const single = (id: string, eventType: string): ConsumerSpec => ({ id, path: `/${id}`, eventTypes: [eventType] });
const tenConsumers = (eventType: string) => Array.from({ length: 10 }, (_, i) => single(`c${i}`, eventType));
const plain =
  (eventType: string) =>
  (i: number): BenchEvent => ({ eventType, payload: { n: i, pad: PAD } });

/** 100 consumers: ten per event type, each taking two of ten shards, so each event reaches two. */
function shardedConsumers(): ConsumerSpec[] {
  return Array.from({ length: 100 }, (_, i) => {
    const eventType = `bench.t${i % 10}`;
    const shards = [Math.floor(i / 10), (Math.floor(i / 10) + 1) % 10];
    return {
      id: `f${i}`,
      path: `/f${i}`,
      eventTypes: [eventType],
      filter: { 'payload.shard': { $in: shards } },
      matches: (event: BenchEvent) => event.eventType === eventType && shards.includes(event.payload.shard as number),
    };
  });
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'one-consumer',
    title: 'one consumer, full speed',
    eventTypes: ['bench.one'],
    consumers: [single('one', 'bench.one')],
    event: plain('bench.one'),
    events: { full: 20_000, quick: 3_000 },
    receiverDelayMs: 0,
    quick: true,
  },
  {
    name: 'latency-1000',
    title: 'one consumer, 1,000 events/s',
    eventTypes: ['bench.one'],
    consumers: [single('one', 'bench.one')],
    event: plain('bench.one'),
    events: { full: 10_000, quick: 2_000 },
    rate: 1000,
    warmup: { full: 5_000, quick: 1_000 },
    receiverDelayMs: 0,
    quick: true,
  },
  {
    name: 'fan-out-10',
    title: 'ten consumers (fan-out)',
    eventTypes: ['bench.fan'],
    consumers: tenConsumers('bench.fan'),
    event: plain('bench.fan'),
    events: { full: 5_000, quick: 500 },
    receiverDelayMs: 0,
    quick: true,
  },
  {
    name: 'filtered-100',
    title: '100 consumers, type + payload filters',
    eventTypes: Array.from({ length: 10 }, (_, i) => `bench.t${i}`),
    consumers: shardedConsumers(),
    event: (i) => ({ eventType: `bench.t${i % 10}`, payload: { n: i, shard: Math.floor(i / 10) % 10, pad: PAD } }),
    events: { full: 10_000, quick: 2_000 },
    receiverDelayMs: 0,
    quick: false,
  },
  {
    name: 'one-failing',
    title: 'ten consumers, one answering 500',
    eventTypes: ['bench.fan'],
    consumers: tenConsumers('bench.fan').map((c, i) => (i === 0 ? { ...c, fails: true } : c)),
    event: plain('bench.fan'),
    events: { full: 3_000, quick: 600 },
    receiverDelayMs: 0,
    quick: false,
  },
  {
    name: 'slow-200ms',
    title: 'ten consumers answering after 200 ms',
    eventTypes: ['bench.fan'],
    consumers: tenConsumers('bench.fan'),
    event: plain('bench.fan'),
    events: { full: 1_000, quick: 300 },
    receiverDelayMs: 200,
    quick: false,
  },
];

/** The consumers an event goes to, as hooksd routes it (exact types only: the scenarios use no wildcards). */
export function targets(scenario: Scenario, event: BenchEvent): ConsumerSpec[] {
  return scenario.consumers.filter(
    (c) => c.eventTypes.includes(event.eventType) && (c.matches === undefined || c.matches(event)),
  );
}

/** Deliveries a scenario must see, counting only consumers that answer 2xx. */
export function expectedDeliveries(scenario: Scenario, events: number): number {
  let total = 0;
  for (let i = 0; i < events; i++) total += targets(scenario, scenario.event(i)).filter((c) => !c.fails).length;
  return total;
}

/** The `i`-th event of a run that starts with `warmup` warm-up events (marked `warmup: true` in the payload). */
export function eventOfRun(scenario: Scenario, warmup: number, i: number): BenchEvent {
  if (i >= warmup) return scenario.event(i - warmup);
  const event = scenario.event(i);
  return { ...event, payload: { ...event.payload, warmup: true } };
}

export function scenarioNamed(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no scenario "${name}" (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return found;
}
