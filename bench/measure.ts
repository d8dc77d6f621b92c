/**
 * One measured run: a fresh stream, one system under test (hooksd or a baseline loop) in its
 * own process, one scenario's events published, and the receiver's view of what arrived.
 */
import { mkdirSync } from 'node:fs';
import type { JetStreamClient, JetStreamManager } from 'nats';
import { cpuPerThousand, cpuSeconds, memoryMb } from './process-stats.js';
import {
  startBaseline,
  startHooksd,
  writeHooksdConfig,
  type BaselineKind,
  type Child,
  type ReceiverProcess,
} from './processes.js';
import { publishAtRate, publishFullSpeed } from './publisher.js';
import { eventOfRun, expectedDeliveries, type Scenario } from './scenarios.js';
import { latency, ratePerSecond, type Latency } from './stats.js';

export const STREAM = 'HOOKS_EVENTS';
/**
 * `hooksd` runs with the default delivery.workers and transport (got); `workers` is hooksd with
 * `BenchContext.workers` of them; `node` is hooksd with `delivery.transport: node`.
 */
export type System = 'hooksd' | 'workers' | 'node' | BaselineKind;
export const SYSTEMS: readonly System[] = ['hooksd', 'workers', 'node', 'got', 'http'];
/** The systems that are hooksd (with a store, and its operations counted), not a bare loop. */
export function isHooksd(system: System): system is Exclude<System, BaselineKind> {
  return system === 'hooksd' || system === 'workers' || system === 'node';
}

export interface BenchContext {
  natsUrl: string;
  js: JetStreamClient;
  jsm: JetStreamManager;
  receiver: ReceiverProcess;
  /** A folder for this run's files (hooksd's config and store). */
  dir: string;
  quick: boolean;
  /** Events per run instead of the scenario's own count. */
  events?: number;
  /** delivery.workers of the `workers` system. */
  workers: number;
  /** Write a CPU profile of hooksd into this folder. */
  cpuProfDir?: string;
  progress(text: string): void;
}

export interface RunResult {
  system: System;
  scenario: string;
  events: number;
  /** Events published before `events`, at the same rate, whose latencies are left out. */
  warmupEvents: number;
  expected: number;
  delivered: number;
  /** Sustained deliveries per second to the consumers that answer 2xx. */
  deliveriesPerSec: number;
  latencyMs: Latency;
  cpuSecondsPer1000: number;
  /** LevelDB operations hooksd wrote per delivery (hooksd_store_operations_total); NaN for the loops. */
  storeOpsPerDelivery: number;
  /** Bytes promoted to the old generation, and allocated, per delivery, in kB (from --trace-gc-nvp). */
  promotedKbPerDelivery: number;
  allocatedKbPerDelivery: number;
  /** Collections during the run: scavenges and mark-compacts. */
  scavenges: number;
  markCompacts: number;
  peakRssMb: number;
  /** Requests the failing consumer got (attempts and retries), when the scenario has one. */
  failingRequests?: number;
  timedOut: boolean;
}

/** Deletes and recreates the stream, so that each run starts from nothing. */
export async function resetStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.delete(STREAM);
  } catch (error) {
    if (!/not found/i.test((error as Error).message)) throw error;
  }
  await jsm.streams.add({ name: STREAM, subjects: ['events.>'] });
}

/** hooksd's count of LevelDB operations written, from its /metrics; NaN for a system without one. */
export async function storeOperations(child: Child & { url?: string }): Promise<number> {
  if (child.url === undefined) return Number.NaN;
  const text = await (await fetch(`${child.url}/metrics`)).text();
  const line = text.split('\n').find((l) => /^hooksd_store_operations_total[{ ]/.test(l));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function startSystem(ctx: BenchContext, system: System, scenario: Scenario): Promise<Child & { url?: string }> {
  if (isHooksd(system)) {
    mkdirSync(ctx.dir, { recursive: true });
    const config = await writeHooksdConfig({
      dir: ctx.dir,
      natsUrl: ctx.natsUrl,
      receiverUrl: ctx.receiver.url,
      scenario,
      ...(system === 'workers' ? { delivery: { workers: ctx.workers } } : {}),
      ...(system === 'node' ? { delivery: { transport: 'node' } } : {}),
    });
    return startHooksd(config, ctx.cpuProfDir);
  }
  return startBaseline(system, {
    natsUrl: ctx.natsUrl,
    stream: STREAM,
    durable: `baseline_${system}`,
    scenario: scenario.name,
    receiverUrl: ctx.receiver.url,
    concurrency: 32,
    maxAckPending: 4096,
  });
}

export async function runOnce(ctx: BenchContext, system: System, scenario: Scenario): Promise<RunResult> {
  const events = ctx.events ?? (ctx.quick ? scenario.events.quick : scenario.events.full);
  const warmup = scenario.warmup === undefined ? 0 : ctx.quick ? scenario.warmup.quick : scenario.warmup.full;
  const expected = expectedDeliveries(scenario, events + warmup);
  const eventFor = (i: number) => eventOfRun(scenario, warmup, i);
  await resetStream(ctx.jsm);
  ctx.receiver.configure(
    scenario.receiverDelayMs,
    scenario.consumers.filter((c) => c.fails).map((c) => c.path),
  );
  ctx.receiver.reset();
  const child = await startSystem(ctx, system, scenario);
  let timedOut = false;
  try {
    const opsBefore = await storeOperations(child);
    const gcBefore = child.gc();
    const cpuBefore = cpuSeconds(child.pid);
    const started = Date.now();
    const publishing =
      scenario.rate === undefined
        ? publishFullSpeed(ctx.js, events, eventFor)
        : publishAtRate(ctx.js, events + warmup, scenario.rate, eventFor);
    // Slow enough to cover a system at a tenth of the target rate, and the 200 ms scenario.
    const deadline = started + 30_000 + expected * 2;
    let delivered = 0;
    for (;;) {
      delivered = await ctx.receiver.count();
      const seconds = (Date.now() - started) / 1000;
      ctx.progress(`${scenario.name} ${system}: ${delivered}/${expected} delivered, ${seconds.toFixed(1)} s`);
      if (delivered >= expected) break;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await publishing;
    const cpuAfter = cpuSeconds(child.pid);
    const gcAfter = child.gc();
    const opsAfter = await storeOperations(child);
    const peakRssMb = memoryMb(child.pid, 'VmHWM');
    const paths = await ctx.receiver.report();
    const measured = scenario.consumers
      .filter((c) => !c.fails)
      .map((c) => paths[c.path])
      .filter((p) => p !== undefined);
    const count = measured.reduce((n, p) => n + p.count, 0);
    const firstAt = Math.min(...measured.map((p) => p.firstAt));
    const lastAt = Math.max(...measured.map((p) => p.lastAt));
    const failing = scenario.consumers.find((c) => c.fails);
    return {
      system,
      scenario: scenario.name,
      events,
      warmupEvents: warmup,
      expected,
      delivered: count,
      deliveriesPerSec: ratePerSecond(count, firstAt, lastAt),
      latencyMs: latency(measured.flatMap((p) => p.latencies)),
      cpuSecondsPer1000: cpuPerThousand(cpuBefore, cpuAfter, count),
      storeOpsPerDelivery: count > 0 ? (opsAfter - opsBefore) / count : Number.NaN,
      promotedKbPerDelivery: count > 0 ? (gcAfter.promoted - gcBefore.promoted) / 1024 / count : Number.NaN,
      allocatedKbPerDelivery: count > 0 ? (gcAfter.allocated - gcBefore.allocated) / 1024 / count : Number.NaN,
      scavenges: gcAfter.scavenges - gcBefore.scavenges,
      markCompacts: gcAfter.markCompacts - gcBefore.markCompacts,
      peakRssMb,
      ...(failing ? { failingRequests: paths[failing.path]?.failed ?? 0 } : {}),
      timedOut,
    };
  } finally {
    await child.stop();
  }
}
